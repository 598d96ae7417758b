// One listener's peer connection: the shared encoded payload goes out with
// this listener's own RTP identity. Every failure stays inside this object
// (counted, logged once by the owner), so one broken listener never disturbs
// the loop that feeds the others.
import { RTCPeerConnection, type RTCIceServer, type RTCRtpSender } from 'werift';
import { ListenerRtpStream } from './listener-rtp.js';
import { answerOffer, OPUS_PAYLOAD_TYPE } from './peer-config.js';

export type ListenerState = 'connecting' | 'connected' | 'closed';

export class ListenerPeer {
  state: ListenerState = 'connecting';
  sendErrors = 0;
  lastError: string | null = null;
  private sender: RTCRtpSender | null = null;
  private rtp: ListenerRtpStream | null = null;
  /** One handler for every send, so a failing send allocates no closure. */
  private readonly onSendError = (err: unknown): void => {
    this.sendErrors++;
    this.lastError = err instanceof Error ? err.message : String(err);
  };

  constructor(
    readonly id: string,
    readonly pc: RTCPeerConnection,
    private readonly onGone: (peer: ListenerPeer, why: 'failed' | 'closed') => void,
  ) {
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        if (this.state === 'connecting') this.state = 'connected';
      } else if (s === 'failed' || s === 'closed') {
        if (this.state !== 'closed') this.onGone(this, s);
      }
    });
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
      sender.sendRtp(rtp.next(payload, samples, false)).catch(this.onSendError);
    } catch (err) {
      this.onSendError(err);
    }
  }

  get packetsSent(): number {
    return this.rtp?.packets ?? 0;
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.pc.close();
  }
}
