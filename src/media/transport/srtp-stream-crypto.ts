// SRTP for one RTP stream (one SSRC), both profiles browsers negotiate with werift:
// AES_CM_128_HMAC_SHA1_80 (RFC 3711) and AEAD_AES_128_GCM (RFC 7714). Used by the
// fast paths that bypass werift's per-packet machinery (srtp-fast-sender.ts for
// listeners, srtp-fast-receiver.ts for broadcasters), with the session keys werift
// derived during the DTLS handshake. Per packet only node:crypto's cipher and the
// output Buffer are allocated.
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/** werift's ProtectionProfileAes128CmHmacSha1_80 / ProtectionProfileAeadAes128Gcm. */
export const PROFILE_AES_CM_HMAC_SHA1_80 = 1;
export const PROFILE_AEAD_AES_128_GCM = 7;

export const RTP_HEADER = 12;
const HMAC_TAG = 10;
const GCM_TAG = 16;

export interface SrtpKeys {
  profile: number;
  /** 16-byte session encryption key. */
  key: Buffer;
  /** Session salt: 14 bytes (AES-CM) or at least 12 (GCM). */
  salt: Buffer;
  /** 20-byte session authentication key (AES-CM only). */
  authKey: Buffer;
}

/** Where a stream stands: highest sequence number seen and the rollover counter (RFC 3711 s_l, ROC). */
export interface SrtpPosition {
  lastSeq: number;
  rolloverCounter: number;
}

/** The per-packet IV of one SSRC: salt and SSRC are XORed once, per packet only ROC and SEQ change. */
class StreamIv {
  readonly gcm: boolean;
  readonly tagLength: number;
  private readonly base: Buffer;
  readonly iv: Buffer;

  constructor(keys: SrtpKeys, ssrc: number) {
    if (keys.profile === PROFILE_AEAD_AES_128_GCM) {
      this.gcm = true;
      this.tagLength = GCM_TAG;
      // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt, 12 bytes.
      this.base = Buffer.alloc(12);
      this.base.writeUInt32BE(ssrc >>> 0, 2);
    } else if (keys.profile === PROFILE_AES_CM_HMAC_SHA1_80) {
      this.gcm = false;
      this.tagLength = HMAC_TAG;
      // RFC 3711 §4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), 16 bytes.
      this.base = Buffer.alloc(16);
      this.base.writeUInt32BE(ssrc >>> 0, 4);
      if (keys.authKey.length !== 20) throw new Error(`SRTP auth key has ${keys.authKey.length} bytes, need 20`);
    } else {
      throw new Error(`unsupported SRTP profile ${keys.profile}`);
    }
    if (keys.key.length !== 16) throw new Error(`SRTP key has ${keys.key.length} bytes, need 16`);
    const saltBytes = this.gcm ? 12 : 14;
    if (keys.salt.length < saltBytes) throw new Error(`SRTP salt has ${keys.salt.length} bytes, need ${saltBytes}`);
    for (let i = 0; i < saltBytes; i++) this.base[i]! ^= keys.salt[i]!;
    this.iv = Buffer.from(this.base);
  }

  /** The IV for packet index (roc, seq), written into `this.iv`. */
  at(roc: number, seq: number): Buffer {
    const iv = this.iv;
    const base = this.base;
    // ROC and SEQ sit at bytes 6..11 (GCM) or 8..13 (AES-CM) of the IV.
    const at = this.gcm ? 6 : 8;
    iv[at] = base[at]! ^ (roc >>> 24);
    iv[at + 1] = base[at + 1]! ^ ((roc >>> 16) & 0xff);
    iv[at + 2] = base[at + 2]! ^ ((roc >>> 8) & 0xff);
    iv[at + 3] = base[at + 3]! ^ (roc & 0xff);
    iv[at + 4] = base[at + 4]! ^ (seq >>> 8);
    iv[at + 5] = base[at + 5]! ^ (seq & 0xff);
    return iv;
  }
}

/** RFC 3711 §4.2: tag = first 10 bytes of HMAC-SHA1(auth key, authenticated portion || ROC). */
function hmacTag(authKey: Buffer, portion: Buffer, rocBytes: Buffer): Buffer {
  const mac = createHmac('sha1', authKey);
  mac.update(portion);
  mac.update(rocBytes);
  return mac.digest();
}

/**
 * What both directions keep for one SSRC: keys, the IV, the rollover counter and a sequence
 * number: the last one protected (sender) or the highest one authenticated (receiver, RFC
 * 3711's s_l). `resume` continues where werift's own SRTP state for the SSRC stands.
 */
abstract class SrtpStreamState {
  readonly tagLength: number;
  protected readonly ivs: StreamIv;
  protected readonly rocBytes = Buffer.alloc(4);
  protected rolloverCounter = 0;
  /** -1 before the first packet. */
  protected lastSeq = -1;

  constructor(
    protected readonly keys: SrtpKeys,
    readonly ssrc: number,
    resume?: SrtpPosition,
  ) {
    this.ivs = new StreamIv(keys, ssrc);
    this.tagLength = this.ivs.tagLength;
    if (resume) {
      this.lastSeq = resume.lastSeq & 0xffff;
      this.rolloverCounter = resume.rolloverCounter >>> 0;
    }
  }

  /** Sequence number and ROC where the stream stands (null before the first packet). */
  get position(): SrtpPosition | null {
    return this.lastSeq < 0 ? null : { lastSeq: this.lastSeq, rolloverCounter: this.rolloverCounter };
  }
}

/**
 * SRTP protection of one RTP stream that we number ourselves: 12-byte header, no CSRCs or
 * extensions. Keeps its own rollover counter.
 */
export class SrtpStreamProtector extends SrtpStreamState {
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
    const iv = this.ivs.at(roc, seq);
    if (this.ivs.gcm) {
      const cipher = createCipheriv('aes-128-gcm', this.keys.key, iv);
      cipher.setAAD(out.subarray(0, RTP_HEADER));
      cipher.update(payload).copy(out, RTP_HEADER);
      cipher.final();
      cipher.getAuthTag().copy(out, RTP_HEADER + length);
    } else {
      const cipher = createCipheriv('aes-128-ctr', this.keys.key, iv);
      cipher.update(payload).copy(out, RTP_HEADER);
      this.rocBytes.writeUInt32BE(roc, 0);
      hmacTag(this.keys.authKey, out.subarray(0, RTP_HEADER + length), this.rocBytes).copy(out, RTP_HEADER + length, 0, HMAC_TAG);
    }
    return out;
  }
}

/** Why unprotect() refused a packet. */
export type UnprotectFailure = 'malformed' | 'auth';

/**
 * Authenticates and decrypts the SRTP packets of one incoming RTP stream (one SSRC).
 * The packet index is estimated as in RFC 3711 §3.3.1 (reordering across a sequence wrap
 * included) and the stream's position only moves on a packet that authenticates, so a
 * forged or corrupt packet changes nothing. After a successful unprotect() the header
 * fields of that packet are in seq, timestamp, payloadType and marker.
 */
export class SrtpStreamUnprotector extends SrtpStreamState {
  seq = 0;
  timestamp = 0;
  payloadType = 0;
  marker = false;
  /** Why the last unprotect() returned null. */
  failure: UnprotectFailure | null = null;

  /** The RTP payload (padding removed), or null with `failure` set. The packet must carry this stream's SSRC. */
  unprotect(packet: Buffer): Buffer | null {
    const tagLength = this.tagLength;
    const end = packet.length - tagLength;
    const b0 = packet[0]!;
    if (end < RTP_HEADER || (b0 & 0xc0) !== 0x80) return this.fail('malformed');
    // The header runs through CSRCs and, if present, the extension (RFC 3550 §5.3.1).
    let payloadAt = RTP_HEADER + 4 * (b0 & 0x0f);
    if (b0 & 0x10) {
      if (payloadAt + 4 > end) return this.fail('malformed');
      payloadAt += 4 + 4 * ((packet[payloadAt + 2]! << 8) | packet[payloadAt + 3]!);
    }
    if (payloadAt > end) return this.fail('malformed');

    const seq = (packet[2]! << 8) | packet[3]!;
    // RFC 3711 §3.3.1: the ROC this packet was sent with, guessed from the highest seen.
    const s = this.lastSeq;
    let roc = this.rolloverCounter;
    if (s >= 0) {
      if (s < 0x8000) {
        if (seq - s > 0x8000) roc = (roc - 1) >>> 0;
      } else if (s - 0x8000 > seq) {
        roc = (roc + 1) >>> 0;
      }
    }
    const iv = this.ivs.at(roc, seq);
    const ciphertext = packet.subarray(payloadAt, end);
    let plain: Buffer;
    if (this.ivs.gcm) {
      const decipher = createDecipheriv('aes-128-gcm', this.keys.key, iv);
      decipher.setAAD(packet.subarray(0, payloadAt));
      decipher.setAuthTag(packet.subarray(end));
      plain = decipher.update(ciphertext);
      try {
        decipher.final();
      } catch {
        return this.fail('auth');
      }
    } else {
      this.rocBytes.writeUInt32BE(roc, 0);
      const tag = hmacTag(this.keys.authKey, packet.subarray(0, end), this.rocBytes);
      if (!timingSafeEqual(tag.subarray(0, HMAC_TAG), packet.subarray(end))) return this.fail('auth');
      plain = createDecipheriv('aes-128-ctr', this.keys.key, iv).update(ciphertext);
    }
    let length = plain.length;
    if (b0 & 0x20) {
      // RFC 3550 §5.1: the last padding octet counts the padding, itself included.
      const pad = length > 0 ? plain[length - 1]! : 0;
      if (pad === 0 || pad > length) return this.fail('malformed');
      length -= pad;
    }

    // Authenticated: the stream's position may move now.
    if (s < 0 || roc === ((this.rolloverCounter + 1) >>> 0)) {
      this.rolloverCounter = roc;
      this.lastSeq = seq;
    } else if (roc === this.rolloverCounter && seq > s) {
      this.lastSeq = seq;
    }
    this.seq = seq;
    this.timestamp = packet.readUInt32BE(4);
    this.payloadType = packet[1]! & 0x7f;
    this.marker = (packet[1]! & 0x80) !== 0;
    this.failure = null;
    return length === plain.length ? plain : plain.subarray(0, length);
  }

  private fail(why: UnprotectFailure): null {
    this.failure = why;
    return null;
  }
}
