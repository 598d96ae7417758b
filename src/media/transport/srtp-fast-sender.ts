// Sends one listener's RTP straight to its UDP socket as SRTP, bypassing
// werift's per-packet sender machinery (RTCRtpSender.sendRtp: ntpTime() string
// parsing, header-extension map/filter/sort, bandwidth bookkeeping, promise
// chains; its SRTP cipher's several Buffers per packet). At hundreds of
// listeners that machinery, not the crypto, was most of the fan-out CPU.
//
// What it takes from werift once DTLS is up (internals, checked at attach time;
// anything missing → the caller stays on sender.sendRtp):
//   dtlsTransport.srtp.localContext {srtpSessionKey, srtpSessionSalt, srtpSessionAuthTag, profile}
//   dtlsTransport.iceTransport.connection {nominated, canSendApplicationData()}
//   nominated.protocol (StunProtocol) .transport (UdpTransport) .socket (dgram), nominated.remoteAddr
// RTCP sender reports stay werift's: its runRtcp() reads ntpTimestamp, rtpTimestamp,
// packetCount and octetCount from the sender, which are kept current here.
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RTCRtpSender } from 'werift';
import { PROFILE_AEAD_AES_128_GCM, PROFILE_AES_CM_HMAC_SHA1_80, RTP_HEADER, SrtpStreamProtector } from './srtp-stream-crypto.js';

/** NTP epoch (1900) to Unix epoch (1970), ms. */
const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;

/** The parts of werift's internals the fast path reads (werift 0.24; not in its .d.ts). */
interface WeriftInternals {
  dtlsTransport?: {
    state?: string;
    srtp?: { localContext?: { srtpSessionKey?: Buffer; srtpSessionSalt?: Buffer; srtpSessionAuthTag?: Buffer; profile?: number; srtpSSRCStates?: Record<number, { rolloverCounter: number; lastSequenceNumber: number }> } };
    iceTransport?: { connection?: IceConnection };
    bytesSent?: number;
    packetsSent?: number;
  };
  ssrc?: number;
  runRtcp?: () => Promise<void>;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  headerBytesSent: number;
}

interface CandidatePair {
  protocol?: { type?: string; transport?: { type?: string; socket?: Socket; closed?: boolean } };
  remoteAddr?: [string, number];
  packetsSent?: number;
  bytesSent?: number;
}

interface IceConnection {
  nominated?: CandidatePair;
  canSendApplicationData?: () => boolean;
}

/** Result of trying to attach: the sender, or why the fast path cannot serve this listener. */
export type FastSenderAttach = { ok: true; sender: SrtpFastSender } | { ok: false; reason: string };

/**
 * One listener's fast RTP path. Build it with `attach` once the listener's DTLS transport
 * is connected; `send` returns false when the packet could not go this way (the nominated
 * pair changed to something that is not plain UDP), and the caller falls back for good.
 */
export class SrtpFastSender {
  private pair: CandidatePair | null = null;
  private socket: Socket | null = null;
  private host = '';
  private port = 0;
  /** performance.now() of the last packet: the NTP timestamp is derived from it only when an SR is built. */
  private lastSendMs = NaN;
  private ntpOverride = 0n;
  private rtcpStarted = false;
  /** The werift SRTP session the keys were taken from. */
  private readonly srtpSession: unknown;

  private constructor(
    private readonly rtpSender: WeriftInternals,
    private readonly transport: NonNullable<WeriftInternals['dtlsTransport']>,
    private readonly connection: IceConnection & { canSendApplicationData: () => boolean },
    readonly protector: SrtpStreamProtector,
  ) {
    this.srtpSession = transport.srtp;
    // werift's runRtcp() reads sender.ntpTimestamp for every SR (about once a second).
    // Making it a getter costs nothing per packet; werift's own sendRtp (fallback) still
    // assigns it, which the setter keeps working.
    const self = this;
    Object.defineProperty(rtpSender, 'ntpTimestamp', {
      configurable: true,
      enumerable: true,
      get(): bigint {
        return self.lastSendMs === self.lastSendMs ? ntpFromPerformanceMs(self.lastSendMs) : self.ntpOverride;
      },
      set(v: bigint) {
        self.lastSendMs = NaN;
        self.ntpOverride = v;
      },
    });
  }

  static attach(sender: RTCRtpSender): FastSenderAttach {
    const s = sender as unknown as WeriftInternals;
    const transport = s.dtlsTransport;
    if (!transport) return { ok: false, reason: 'sender has no dtlsTransport' };
    if (transport.state !== 'connected') return { ok: false, reason: `DTLS transport is ${transport.state}` };
    const ctx = transport.srtp?.localContext;
    if (!ctx) return { ok: false, reason: 'dtlsTransport.srtp.localContext missing' };
    const { srtpSessionKey: key, srtpSessionSalt: salt, srtpSessionAuthTag: authKey, profile } = ctx;
    if (!Buffer.isBuffer(key) || key.length !== 16) return { ok: false, reason: 'SRTP session key missing' };
    if (!Buffer.isBuffer(salt)) return { ok: false, reason: 'SRTP session salt missing' };
    if (profile !== PROFILE_AEAD_AES_128_GCM && profile !== PROFILE_AES_CM_HMAC_SHA1_80) {
      return { ok: false, reason: `SRTP profile ${String(profile)} not supported` };
    }
    if (profile === PROFILE_AES_CM_HMAC_SHA1_80 && (!Buffer.isBuffer(authKey) || authKey.length !== 20)) {
      return { ok: false, reason: 'SRTP session auth key missing' };
    }
    if (typeof s.ssrc !== 'number') return { ok: false, reason: 'sender.ssrc missing' };
    if (typeof s.runRtcp !== 'function') return { ok: false, reason: 'sender.runRtcp missing' };
    const connection = transport.iceTransport?.connection;
    if (!connection || typeof connection.canSendApplicationData !== 'function') {
      return { ok: false, reason: 'ICE connection or canSendApplicationData missing' };
    }
    // If werift already protected packets of this SSRC, continue its rollover counter.
    const state = ctx.srtpSSRCStates?.[s.ssrc];
    const protector = new SrtpStreamProtector(
      { profile, key, salt, authKey: authKey ?? Buffer.alloc(0) },
      s.ssrc,
      state ? { lastSeq: state.lastSequenceNumber, rolloverCounter: state.rolloverCounter } : undefined,
    );
    const fast = new SrtpFastSender(s, transport, connection as IceConnection & { canSendApplicationData: () => boolean }, protector);
    const why = fast.usePair(connection.nominated);
    if (why !== null) return { ok: false, reason: why };
    return { ok: true, sender: fast };
  }

  /**
   * Protects and sends one packet. Returns 'sent', 'dropped' (no consent to send right now,
   * as werift would drop it) or a reason string when this path can no longer serve the
   * listener (the caller falls back to werift).
   */
  send(seq: number, timestamp: number, marker: boolean, payloadType: number, payload: Buffer): 'sent' | 'dropped' | string {
    const transport = this.transport;
    // A renegotiation may give the sender another transport, or the transport new SRTP
    // keys: the keys cached here would then be wrong, so werift takes over.
    if (this.rtpSender.dtlsTransport !== transport || transport.srtp !== this.srtpSession) return 'DTLS transport or SRTP session replaced';
    const connection = this.connection;
    // RFC 7675: no media without fresh consent (werift's connection.send checks the same).
    if (!connection.canSendApplicationData()) return 'dropped';
    const pair = connection.nominated;
    if (pair !== this.pair) {
      const why = this.usePair(pair);
      if (why !== null) return why;
    }
    // The peer connection is closing: werift's UdpTransport drops sends the same way.
    if (this.udpClosed()) return 'dropped';
    const socket = this.socket!;
    const packet = this.protector.protect(seq, timestamp, marker, payloadType, payload);
    socket.send(packet, this.port, this.host);

    const s = this.rtpSender;
    this.lastSendMs = performance.now();
    s.rtpTimestamp = timestamp;
    s.octetCount += payload.length;
    s.headerBytesSent += RTP_HEADER;
    s.packetCount = (s.packetCount + 1) >>> 0;
    const t = transport;
    if (t.bytesSent !== undefined) t.bytesSent += packet.length;
    if (t.packetsSent !== undefined) t.packetsSent++;
    if (pair!.packetsSent !== undefined) pair!.packetsSent++;
    if (pair!.bytesSent !== undefined) pair!.bytesSent += packet.length;
    if (!this.rtcpStarted) {
      this.rtcpStarted = true;
      // Resolves when the sender stops; it catches its own errors.
      void s.runRtcp!();
    }
    return 'sent';
  }

  /**
   * Gives the stream back to werift's sendRtp: its SRTP state for this SSRC continues from
   * our rollover counter, and ntpTimestamp becomes a plain field again.
   */
  handBack(): void {
    const ctx = this.transport.srtp?.localContext as
      | { getSrtpSsrcState?: (ssrc: number) => { rolloverCounter: number; lastSequenceNumber: number; rolloverHasProcessed?: boolean } }
      | undefined;
    const where = this.protector.position;
    // Our rollover counter belongs to the keys we used; a new SRTP session starts its own.
    if (where !== null && this.transport.srtp === this.srtpSession && typeof ctx?.getSrtpSsrcState === 'function') {
      const state = ctx.getSrtpSsrcState(this.protector.ssrc);
      state.rolloverCounter = where.rolloverCounter;
      state.lastSequenceNumber = where.lastSeq;
      state.rolloverHasProcessed = true;
    }
    const ntp = this.rtpSender.ntpTimestamp;
    Object.defineProperty(this.rtpSender, 'ntpTimestamp', { configurable: true, enumerable: true, writable: true, value: ntp });
  }

  private udpClosed(): boolean {
    return this.pair?.protocol?.transport?.closed === true;
  }

  /** Caches the socket and address of a (new) nominated pair; null if usable, else why not. */
  private usePair(pair: CandidatePair | undefined): string | null {
    if (!pair) return 'no nominated ICE candidate pair';
    const protocol = pair.protocol;
    const transport = protocol?.transport;
    if (protocol?.type !== 'stun' || transport?.type !== 'udp') {
      return `nominated pair is not plain UDP (${String(protocol?.type)}/${String(transport?.type)}, e.g. a TURN relay)`;
    }
    const socket = transport.socket;
    const addr = pair.remoteAddr;
    if (!socket || typeof socket.send !== 'function') return 'UDP transport has no dgram socket';
    if (!addr || isIP(addr[0]) === 0 || typeof addr[1] !== 'number') return `remote address ${String(addr)} is not an IP:port`;
    this.pair = pair;
    this.socket = socket;
    this.host = addr[0];
    this.port = addr[1];
    return null;
  }
}

/** 64-bit NTP timestamp for a performance.now() reading (RFC 3550 §4). */
export function ntpFromPerformanceMs(ms: number): bigint {
  const sinceNtpEpochMs = performance.timeOrigin + ms + NTP_UNIX_OFFSET_MS;
  const seconds = Math.floor(sinceNtpEpochMs / 1000);
  const fraction = Math.floor(((sinceNtpEpochMs - seconds * 1000) / 1000) * 0x1_0000_0000);
  return (BigInt(seconds) << 32n) | BigInt(Math.min(fraction, 0xffff_ffff));
}
