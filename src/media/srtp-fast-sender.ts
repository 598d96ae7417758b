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
import { createCipheriv, createHmac } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RTCRtpSender } from 'werift';

/** werift's ProtectionProfileAes128CmHmacSha1_80 / ProtectionProfileAeadAes128Gcm. */
export const PROFILE_AES_CM_HMAC_SHA1_80 = 1;
export const PROFILE_AEAD_AES_128_GCM = 7;

const RTP_HEADER = 12;
const HMAC_TAG = 10;
const GCM_TAG = 16;
/** NTP epoch (1900) to Unix epoch (1970), ms. */
const NTP_UNIX_OFFSET_MS = 2_208_988_800_000;

export interface SrtpKeys {
  profile: number;
  /** 16-byte session encryption key. */
  key: Buffer;
  /** Session salt: 14 bytes (AES-CM) or at least 12 (GCM). */
  salt: Buffer;
  /** 20-byte session authentication key (AES-CM only). */
  authKey: Buffer;
}

/**
 * SRTP protection of one RTP stream (one SSRC) that we number ourselves: 12-byte header,
 * no CSRCs or extensions. Keeps its own rollover counter. Allocates per packet only the
 * output Buffer and what node:crypto allocates itself.
 */
export class SrtpStreamProtector {
  readonly tagLength: number;
  private readonly gcm: boolean;
  /** Salt XOR (SSRC part of the IV), computed once; per packet only ROC and SEQ bytes change. */
  private readonly ivBase: Buffer;
  private readonly iv: Buffer;
  private readonly roc = Buffer.alloc(4);
  private rolloverCounter = 0;
  private lastSeq = -1;

  constructor(
    private readonly keys: SrtpKeys,
    readonly ssrc: number,
    /** Where a stream werift already started stands (sequence number of its last packet, ROC). */
    resume?: { lastSeq: number; rolloverCounter: number },
  ) {
    if (keys.profile === PROFILE_AEAD_AES_128_GCM) {
      this.gcm = true;
      this.tagLength = GCM_TAG;
      // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt, 12 bytes.
      this.ivBase = Buffer.alloc(12);
      this.ivBase.writeUInt32BE(ssrc >>> 0, 2);
    } else if (keys.profile === PROFILE_AES_CM_HMAC_SHA1_80) {
      this.gcm = false;
      this.tagLength = HMAC_TAG;
      // RFC 3711 §4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), 16 bytes.
      this.ivBase = Buffer.alloc(16);
      this.ivBase.writeUInt32BE(ssrc >>> 0, 4);
    } else {
      throw new Error(`unsupported SRTP profile ${keys.profile}`);
    }
    const saltBytes = this.gcm ? 12 : 14;
    if (keys.salt.length < saltBytes) throw new Error(`SRTP salt has ${keys.salt.length} bytes, need ${saltBytes}`);
    for (let i = 0; i < saltBytes; i++) this.ivBase[i]! ^= keys.salt[i]!;
    this.iv = Buffer.from(this.ivBase);
    if (resume) {
      this.lastSeq = resume.lastSeq & 0xffff;
      this.rolloverCounter = resume.rolloverCounter >>> 0;
    }
  }

  /** Sequence number and ROC of the last packet protected (null before the first). */
  get position(): { lastSeq: number; rolloverCounter: number } | null {
    return this.lastSeq < 0 ? null : { lastSeq: this.lastSeq, rolloverCounter: this.rolloverCounter };
  }

  /** The SRTP packet for this RTP packet. Sequence numbers must only go forward (by any step < 2^15). */
  protect(seq: number, timestamp: number, marker: boolean, payloadType: number, payload: Buffer): Buffer {
    // We own the numbering: a smaller number than the last one means the 16-bit counter wrapped.
    if (this.lastSeq >= 0 && seq < this.lastSeq && this.lastSeq - seq > 0x8000) {
      this.rolloverCounter = (this.rolloverCounter + 1) >>> 0;
    }
    this.lastSeq = seq;
    const roc = this.rolloverCounter;
    const length = payload.length;
    const out = Buffer.allocUnsafe(RTP_HEADER + length + this.tagLength);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    out[2] = seq >>> 8;
    out[3] = seq & 0xff;
    out.writeUInt32BE(timestamp >>> 0, 4);
    out.writeUInt32BE(this.ssrc >>> 0, 8);

    const iv = this.iv;
    const base = this.ivBase;
    // ROC and SEQ sit at bytes 6..11 (GCM) or 8..13 (AES-CM) of the IV.
    const at = this.gcm ? 6 : 8;
    iv[at] = base[at]! ^ (roc >>> 24);
    iv[at + 1] = base[at + 1]! ^ ((roc >>> 16) & 0xff);
    iv[at + 2] = base[at + 2]! ^ ((roc >>> 8) & 0xff);
    iv[at + 3] = base[at + 3]! ^ (roc & 0xff);
    iv[at + 4] = base[at + 4]! ^ (seq >>> 8);
    iv[at + 5] = base[at + 5]! ^ (seq & 0xff);

    if (this.gcm) {
      const cipher = createCipheriv('aes-128-gcm', this.keys.key, iv);
      cipher.setAAD(out.subarray(0, RTP_HEADER));
      cipher.update(payload).copy(out, RTP_HEADER);
      cipher.final();
      cipher.getAuthTag().copy(out, RTP_HEADER + length);
    } else {
      const cipher = createCipheriv('aes-128-ctr', this.keys.key, iv);
      cipher.update(payload).copy(out, RTP_HEADER);
      // RFC 3711 §4.2: tag = HMAC-SHA1(auth key, header || ciphertext || ROC), first 10 bytes.
      const r = this.roc;
      r.writeUInt32BE(roc, 0);
      const mac = createHmac('sha1', this.keys.authKey);
      mac.update(out.subarray(0, RTP_HEADER + length));
      mac.update(r);
      mac.digest().copy(out, RTP_HEADER + length, 0, HMAC_TAG);
    }
    return out;
  }
}

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
