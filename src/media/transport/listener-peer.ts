// One listener's peer connection: the shared encoded payload goes out with
// this listener's own RTP identity. Every failure stays inside this object
// (counted, logged once by the owner), so one broken listener never disturbs
// the loop that feeds the others. A listener holds one of the stream's slots
// from its offer on, so one that has not completed ICE and DTLS within the
// connect timeout gives up (onGone 'connect-timeout'): offers whose candidates
// lead nowhere cannot hold slots for the tens of seconds ICE would take to fail.
import { RTCPeerConnection, type RTCIceServer, type RTCRtpSender } from 'werift';
import { ListenerRtpStream } from './listener-rtp.js';
import type { ListenerEndReason } from '../media-plane.js';
import { answerOffer, OPUS_PAYLOAD_TYPE } from './peer-config.js';
import { SrtpFastSender } from './srtp-fast-sender.js';

/** Fallback reasons already logged by this process (each is logged once, not per listener). */
const loggedFallbacks = new Set<string>();

export type ListenerState = 'connecting' | 'connected' | 'closed';

export class ListenerPeer {
  state: ListenerState = 'connecting';
  sendErrors = 0;
  lastError: string | null = null;
  private sender: RTCRtpSender | null = null;
  private rtp: ListenerRtpStream | null = null;
  /** undefined: not tried yet (DTLS not up); null: werift's sendRtp serves this listener. */
  private fast: SrtpFastSender | null | undefined;
  /** Why this listener is on werift's sendRtp, if the fast path gave up. */
  fastPathFallback: string | null = null;
  /** Owned here: cleared when the peer connects or closes. */
  private connectTimer: NodeJS.Timeout | null = null;
  /** One handler for every send, so a failing send allocates no closure. */
  private readonly onSendError = (err: unknown): void => {
    this.sendErrors++;
    this.lastError = err instanceof Error ? err.message : String(err);
  };

  constructor(
    readonly id: string,
    readonly pc: RTCPeerConnection,
    /**
     * The SRTP fast path (srtp-fast-sender.ts) for this listener's sends; false (config
     * SRTP_FAST_PATH=0) keeps it on werift's RTCRtpSender.sendRtp, for A/B and as an escape hatch.
     */
    fastPath: boolean,
    private readonly onGone: (peer: ListenerPeer, why: ListenerEndReason) => void,
    connectTimeoutMs: number,
  ) {
    this.fast = fastPath ? undefined : null;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.state === 'connecting') this.onGone(this, 'connect-timeout');
    }, connectTimeoutMs);
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        if (this.state === 'connecting') this.state = 'connected';
        this.clearConnectTimer();
      } else if (s === 'failed' || s === 'closed') {
        if (this.state !== 'closed') this.onGone(this, s);
      }
    });
  }

  private clearConnectTimer(): void {
    if (this.connectTimer === null) return;
    clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  async answer(offerSdp: string, iceServers: RTCIceServer[], announcedAddress?: string): Promise<string> {
    return answerOffer(
      this.pc,
      offerSdp,
      iceServers,
      () => {
        const transceiver = this.pc.getTransceivers().find((t) => t.kind === 'audio');
        if (!transceiver) throw new Error('listener offer has no audio transceiver');
        transceiver.setDirection('sendonly');
        this.sender = transceiver.sender;
      },
      announcedAddress,
    ).then((sdp) => {
      const codec = this.sender?.codec;
      this.rtp = new ListenerRtpStream(codec?.payloadType ?? OPUS_PAYLOAD_TYPE);
      return sdp;
    });
  }

  /** Sends the shared payload; never throws. */
  send(payload: Buffer, samples: number): void {
    const sender = this.sender;
    const rtp = this.rtp;
    if (this.state !== 'connected' || sender === null || rtp === null) return;
    try {
      const packet = rtp.next(payload, samples, false);
      let fast = this.fast;
      if (fast === undefined && sender.dtlsTransport?.state === 'connected') {
        const attached = SrtpFastSender.attach(sender);
        if (attached.ok) fast = this.fast = attached.sender;
        else this.fallBack(attached.reason);
      }
      if (fast) {
        const h = packet.header;
        const result = fast.send(h.sequenceNumber, h.timestamp, h.marker, h.payloadType, payload);
        if (result === 'sent' || result === 'dropped') return;
        fast.handBack();
        this.fallBack(result);
      }
      // Before DTLS is up werift's sendRtp drops the packet, as it always did.
      sender.sendRtp(packet).catch(this.onSendError);
    } catch (err) {
      this.onSendError(err);
    }
  }

  private fallBack(reason: string): void {
    this.fast = null;
    this.fastPathFallback = reason;
    if (loggedFallbacks.has(reason)) return;
    loggedFallbacks.add(reason);
    process.emitWarning(`listener RTP falls back to werift's sendRtp: ${reason}`, { code: 'HUSHCAST_SRTP_FALLBACK' });
  }

  /** True once this listener's packets go through the SRTP fast path. */
  get usesFastPath(): boolean {
    return this.fast instanceof SrtpFastSender;
  }

  get packetsSent(): number {
    return this.rtp?.packets ?? 0;
  }

  async close(): Promise<void> {
    this.clearConnectTimer();
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.pc.close();
  }
}
