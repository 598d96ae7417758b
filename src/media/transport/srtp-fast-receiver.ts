// Receives a broadcaster's RTP straight off its UDP socket, bypassing werift's
// per-packet receive chain (STUN parse attempt, three event hops each spawning an
// async closure, an RTP header parser that splits bytes into strings of bits and
// runs twice, SRTP with several Buffers per packet, a clone per packet). That chain
// allocated ~70 % of a media worker's garbage; its young-generation collections
// landed inside hops and made them late (bench:streams).
//
// It sits in front of werift on the nominated pair's UdpTransport.onData and takes
// only packets that are RTP (not RTCP, not STUN or DTLS) of the one SSRC and payload
// type werift already delivered; everything else goes to werift as before.
// What it takes from werift once the first packet came through werift (internals,
// checked at attach time; anything missing → werift keeps receiving):
//   receiver.dtlsTransport {state, srtp.remoteContext {srtpSessionKey, srtpSessionSalt,
//     srtpSessionAuthTag, profile, srtpSSRCStates}, iceTransport.connection.nominated,
//     bytesReceived, packetsReceived}
//   nominated.protocol (StunProtocol) .transport (UdpTransport) .onData
//   receiver.remoteStreams[ssrc] (werift's StreamStatistics: its receiver reports keep
//   counting the packets taken here)
import type { RTCRtpReceiver } from 'werift';
import { PROFILE_AEAD_AES_128_GCM, PROFILE_AES_CM_HMAC_SHA1_80, RTP_HEADER, SrtpStreamUnprotector } from './srtp-stream-crypto.js';

/** Delivery of one authenticated packet: its header fields and payload (a Buffer of its own). */
export type RtpSink = (seq: number, timestamp: number, payload: Buffer) => void;

type OnData = (data: Buffer, addr: unknown) => void;

interface UdpTransportInternals {
  type?: string;
  onData?: OnData;
}

interface CandidatePair {
  protocol?: { type?: string; transport?: UdpTransportInternals };
  packetsReceived?: number;
  bytesReceived?: number;
}

interface SsrcState {
  rolloverCounter: number;
  lastSequenceNumber: number;
  rolloverHasProcessed?: boolean;
}

interface ReceiverInternals {
  dtlsTransport?: {
    state?: string;
    srtp?: {
      remoteContext?: {
        srtpSessionKey?: Buffer;
        srtpSessionSalt?: Buffer;
        srtpSessionAuthTag?: Buffer;
        profile?: number;
        srtpSSRCStates?: Record<number, SsrcState>;
      };
    };
    iceTransport?: { connection?: { nominated?: CandidatePair } };
    bytesReceived?: number;
    packetsReceived?: number;
  };
  remoteStreams?: Record<number, { add?: (packet: StatsPacket) => void }>;
}

/** The fields werift's StreamStatistics.add reads from a packet. */
interface StatsPacket {
  header: { sequenceNumber: number; timestamp: number; serializeSize: number };
  payload: { length: number };
}

export type FastReceiverAttach = { ok: true; receiver: SrtpFastReceiver } | { ok: false; reason: string };

export class SrtpFastReceiver {
  packets = 0;
  /** Packets of this stream that failed SRTP authentication or were malformed (dropped, as werift drops them). */
  rejected = 0;
  /** Set when the hook gave the socket back to werift for good (an unexpected error). */
  fallbackReason: string | null = null;
  private readonly original: OnData;
  private readonly hook: OnData;
  /** One object reused for every StreamStatistics.add call. */
  private readonly statsPacket: StatsPacket = { header: { sequenceNumber: 0, timestamp: 0, serializeSize: RTP_HEADER }, payload: { length: 0 } };

  private constructor(
    private readonly transport: UdpTransportInternals & { onData: OnData },
    private readonly dtls: NonNullable<ReceiverInternals['dtlsTransport']>,
    private readonly pair: CandidatePair,
    private readonly unprotector: SrtpStreamUnprotector,
    private readonly payloadType: number,
    private readonly werift: SsrcState,
    private readonly stats: { add: (packet: StatsPacket) => void },
    private readonly sink: RtpSink,
  ) {
    this.original = transport.onData;
    this.hook = (data, addr) => {
      if (!this.take(data)) this.original(data, addr);
    };
    transport.onData = this.hook;
  }

  /**
   * Puts the fast path in front of werift for `ssrc` (payload type `payloadType`), whose
   * first packet werift has already delivered. Packets taken go to `sink`.
   */
  static attach(receiver: RTCRtpReceiver, ssrc: number, payloadType: number, sink: RtpSink): FastReceiverAttach {
    const r = receiver as unknown as ReceiverInternals;
    const dtls = r.dtlsTransport;
    if (!dtls) return { ok: false, reason: 'receiver has no dtlsTransport' };
    if (dtls.state !== 'connected') return { ok: false, reason: `DTLS transport is ${String(dtls.state)}` };
    const ctx = dtls.srtp?.remoteContext;
    if (!ctx) return { ok: false, reason: 'dtlsTransport.srtp.remoteContext missing' };
    const { srtpSessionKey: key, srtpSessionSalt: salt, srtpSessionAuthTag: authKey, profile } = ctx;
    if (!Buffer.isBuffer(key) || !Buffer.isBuffer(salt)) return { ok: false, reason: 'SRTP session keys missing' };
    if (profile !== PROFILE_AEAD_AES_128_GCM && profile !== PROFILE_AES_CM_HMAC_SHA1_80) {
      return { ok: false, reason: `SRTP profile ${String(profile)} not supported` };
    }
    const werift = ctx.srtpSSRCStates?.[ssrc];
    if (!werift || typeof werift.rolloverCounter !== 'number') return { ok: false, reason: 'no werift SRTP state for the SSRC' };
    const stats = r.remoteStreams?.[ssrc];
    if (!stats || typeof stats.add !== 'function') return { ok: false, reason: 'receiver.remoteStreams has no statistics for the SSRC' };
    const pair = dtls.iceTransport?.connection?.nominated;
    if (!pair) return { ok: false, reason: 'no nominated ICE candidate pair' };
    const transport = pair.protocol?.transport;
    if (pair.protocol?.type !== 'stun' || transport?.type !== 'udp' || typeof transport.onData !== 'function') {
      return { ok: false, reason: `nominated pair is not plain UDP (${String(pair.protocol?.type)}/${String(transport?.type)}, e.g. a TURN relay)` };
    }
    let unprotector: SrtpStreamUnprotector;
    try {
      unprotector = new SrtpStreamUnprotector({ profile, key, salt, authKey: authKey ?? Buffer.alloc(0) }, ssrc, {
        lastSeq: werift.lastSequenceNumber,
        rolloverCounter: werift.rolloverCounter,
      });
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    const fast = new SrtpFastReceiver(transport as UdpTransportInternals & { onData: OnData }, dtls, pair, unprotector, payloadType & 0x7f, werift, stats as { add: (p: StatsPacket) => void }, sink);
    return { ok: true, receiver: fast };
  }

  /** Gives every packet back to werift (idempotent). */
  detach(): void {
    if (this.transport.onData === this.hook) this.transport.onData = this.original;
  }

  /** true: the packet was this stream's and is handled (delivered or dropped); false: werift's. */
  private take(data: Buffer): boolean {
    // RTP, not RTCP (RFC 5761 §4: RTCP packet types 192–223 in the second byte), our stream.
    if (data.length < RTP_HEADER || (data[0]! & 0xc0) !== 0x80) return false;
    const b1 = data[1]!;
    if (b1 >= 192 && b1 <= 223) return false;
    if ((b1 & 0x7f) !== this.payloadType || data.readUInt32BE(8) !== this.unprotector.ssrc) return false;
    try {
      return this.deliver(data);
    } catch (err) {
      // Never break the socket for the rest of the session: werift takes over from here.
      this.fallbackReason = `fast receive failed: ${(err as Error).message}`;
      this.detach();
      return false;
    }
  }

  private deliver(data: Buffer): boolean {
    const u = this.unprotector;
    const payload = u.unprotect(data);
    if (payload === null) {
      this.rejected++;
      return true;
    }
    this.packets++;
    // The counters werift's own path keeps: its stats and receiver reports stay true.
    const dtls = this.dtls;
    if (dtls.bytesReceived !== undefined) dtls.bytesReceived += data.length;
    if (dtls.packetsReceived !== undefined) dtls.packetsReceived++;
    const pair = this.pair;
    if (pair.packetsReceived !== undefined) pair.packetsReceived++;
    if (pair.bytesReceived !== undefined) pair.bytesReceived += data.length;
    // werift continues from here if it ever decrypts this stream again (a fallback).
    const w = this.werift;
    const position = u.position!;
    w.rolloverCounter = position.rolloverCounter;
    w.lastSequenceNumber = position.lastSeq;
    w.rolloverHasProcessed = true;
    const sp = this.statsPacket;
    sp.header.sequenceNumber = u.seq;
    sp.header.timestamp = u.timestamp;
    sp.payload.length = payload.length;
    this.stats.add(sp);
    this.sink(u.seq, u.timestamp, payload);
    return true;
  }
}
