// Receive side of a session, as a pure processor: RTP packets in any order
// (processInput) → exactly one 10 ms frame per hop (processOutput), whatever
// the network did. Reordered packets are put back in sequence; a missing
// packet is waited for briefly, then recovered from the next packet's in-band
// FEC or concealed by the decoder (PLC); when nothing is buffered the frame is
// concealed without advancing (the buffer grows by 10 ms, which absorbs jitter),
// and when the buffer keeps more audio than the measured jitter needs, one
// 10 ms frame is dropped (crossfaded) to win the latency back. The output clock
// never waits for the network. Nothing here allocates after construction.
import { FRAME_SIZE } from '../../denoise/denoiser.js';

export interface FrameDecoder {
  decode(packet: Uint8Array, out: Float32Array, offset: number): number;
  decodeFec(next: Uint8Array, frameSize: number, out: Float32Array, offset: number): number;
  conceal(frameSize: number, out: Float32Array, offset: number): number;
}

export interface JitterBufferOptions {
  /** Packets held at most (64 × 20 ms = 1.28 s). */
  capacity?: number;
  /** How long a gap may wait for a reordered packet once a later one is here. */
  reorderWaitMs?: number;
  /** Concealment of an empty buffer stops after this long (the stream paused): silence instead of PLC buzz. */
  maxConcealMs?: number;
  /** Hops over which the smallest buffer level is watched before deciding to drop a frame. */
  accelerateWindowHops?: number;
}

/** What the frame produced by processOutput is made of. */
export type FrameKind = 'audio' | 'recovered' | 'concealed' | 'silence';

const MAX_PACKET_BYTES = 1500;
const MAX_FRAME = 5760;
const SAMPLES_PER_MS = 48;
const CROSSFADE = 48;
const MAX_SEGMENTS = 16;

class Slot {
  used = false;
  seq = 0;
  timestamp = 0;
  arrivalMs = 0;
  length = 0;
  readonly data = new Uint8Array(MAX_PACKET_BYTES);
}

export interface JitterBufferStats {
  received: number;
  duplicates: number;
  late: number;
  /** Packets never received that were concealed (PLC). */
  lost: number;
  /** Packets never received that were rebuilt from the next packet's FEC. */
  recovered: number;
  /** 10 ms frames concealed because nothing was buffered (jitter or a paused sender). */
  expanded: number;
  /** 10 ms frames dropped to shrink the buffer back. */
  accelerated: number;
  decodeErrors: number;
  resyncs: number;
  /** RFC 3550 interarrival jitter, ms. */
  jitterMs: number;
  /** Audio buffered ahead of the output, ms. */
  levelMs: number;
}

export class JitterBuffer {
  private readonly slots: Slot[];
  private readonly capacity: number;
  private readonly reorderWaitMs: number;
  private readonly maxConcealSamples: number;
  private readonly windowHops: number;

  private started = false;
  /** Extended (unwrapped) sequence number of the next packet to decode. */
  private nextSeq = 0;
  private highestSeq = 0;
  private lastDuration = 960;
  private decodedAny = false;
  /** Frames still to drop (one every other hop) after a window found too much buffering. */
  private dropBudget = 0;
  private concealedRun = 0;

  private readonly fifo = new Float32Array(MAX_FRAME * 2 + FRAME_SIZE * 2);
  private fifoLen = 0;
  /** Decoded chunks in the fifo: where each ends, when its packet arrived (NaN = concealed), its kind. */
  private readonly segEnd = new Int32Array(MAX_SEGMENTS);
  private readonly segArrival = new Float64Array(MAX_SEGMENTS);
  private readonly segKind: FrameKind[] = new Array<FrameKind>(MAX_SEGMENTS).fill('audio');
  private segCount = 0;

  private hopsInWindow = 0;
  private minLevelInWindow = Infinity;
  private jitterSamples = 0;
  private prevTransit = NaN;

  /** Arrival time (ms) of the packet that carried the first sample of the last output frame; NaN if none did. */
  lastFrameArrivalMs = NaN;
  /** The last output frame began with a packet's first sample (the encoder aligns its packets to these). */
  lastFrameStartsPacket = false;
  /** The fifo's first segment has already been partly output. */
  private headPartial = false;
  /** Ms since the last packet was accepted (Infinity before the first). */
  private lastArrivalMs = -Infinity;

  private readonly counters = {
    received: 0,
    duplicates: 0,
    late: 0,
    lost: 0,
    recovered: 0,
    expanded: 0,
    accelerated: 0,
    decodeErrors: 0,
    resyncs: 0,
  };

  constructor(
    private readonly decoder: FrameDecoder,
    options: JitterBufferOptions = {},
  ) {
    this.capacity = options.capacity ?? 64;
    this.reorderWaitMs = options.reorderWaitMs ?? 10;
    this.maxConcealSamples = (options.maxConcealMs ?? 200) * SAMPLES_PER_MS;
    this.windowHops = options.accelerateWindowHops ?? 50;
    this.slots = Array.from({ length: this.capacity }, () => new Slot());
  }

  /** Samples in the broadcaster's packets (the last one decoded): 480 for 10 ms packets, 960 for 20 ms. */
  get packetSamples(): number {
    return this.lastDuration;
  }

  /** Time the newest packet was accepted, for the no-media watchdog. */
  get lastPacketAtMs(): number {
    return this.lastArrivalMs;
  }

  /** One RTP packet (payload is copied; the caller may reuse it). */
  processInput(seq16: number, timestamp: number, payload: Uint8Array, arrivalMs: number): void {
    if (payload.length === 0 || payload.length > MAX_PACKET_BYTES) {
      this.counters.decodeErrors++;
      return;
    }
    let seq: number;
    if (!this.started) {
      this.started = true;
      seq = seq16 + 0x10000; // room below for reordered predecessors
      this.nextSeq = seq;
      this.highestSeq = seq;
    } else {
      const delta = ((seq16 - (this.highestSeq & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      seq = this.highestSeq + delta;
      if (seq < this.nextSeq && !this.decodedAny && this.nextSeq - seq < this.capacity / 2) {
        // Nothing played yet: the first packet to arrive was not the first one sent.
        this.nextSeq = seq;
      } else if (seq < this.nextSeq) {
        // Already played (or concealed). A sender that restarted its numbering lands here too.
        if (this.nextSeq - seq > this.capacity * 4) this.resync(seq);
        else {
          this.counters.late++;
          return;
        }
      } else if (seq >= this.nextSeq + this.capacity) {
        this.resync(seq);
      }
    }
    const slot = this.slots[seq % this.capacity]!;
    if (slot.used && slot.seq === seq) {
      this.counters.duplicates++;
      return;
    }
    slot.used = true;
    slot.seq = seq;
    slot.timestamp = timestamp >>> 0;
    slot.arrivalMs = arrivalMs;
    slot.length = payload.length;
    slot.data.set(payload);
    if (seq > this.highestSeq) this.highestSeq = seq;
    this.counters.received++;
    this.lastArrivalMs = arrivalMs;
    // RFC 3550 A.8, in samples (48 kHz clock).
    const transit = arrivalMs * SAMPLES_PER_MS - slot.timestamp;
    if (this.prevTransit === this.prevTransit) {
      let d = transit - this.prevTransit;
      if (d < 0) d = -d;
      if (d < 48_000) this.jitterSamples += (d - this.jitterSamples) / 16;
    }
    this.prevTransit = transit;
  }

  /** Fills out (FRAME_SIZE samples) with the next 10 ms; never blocks, never fails. */
  processOutput(nowMs: number, out: Float32Array): FrameKind {
    this.lastFrameStartsPacket = false;
    if (!this.started) {
      out.fill(0, 0, FRAME_SIZE);
      this.lastFrameArrivalMs = NaN;
      return 'silence';
    }
    while (this.fifoLen < FRAME_SIZE && this.fillOnce(nowMs)) {
      /* decode until a hop is buffered (or nothing more can be) */
    }
    if (this.fifoLen < FRAME_SIZE) {
      if (this.concealedRun >= this.maxConcealSamples) {
        // Sender silent for a while: output silence and forget the decoder's extrapolation.
        out.fill(0, 0, FRAME_SIZE);
        this.lastFrameArrivalMs = NaN;
        return 'silence';
      }
      this.concealInto(FRAME_SIZE - this.fifoLen, 'concealed');
      this.counters.expanded++;
    }
    this.maybeAccelerate();
    const kind = this.segKind[0]!;
    this.lastFrameArrivalMs = this.segArrival[0]!;
    this.lastFrameStartsPacket = !this.headPartial && kind === 'audio';
    out.set(this.fifo.subarray(0, FRAME_SIZE));
    this.consume(FRAME_SIZE);
    return kind;
  }

  private fillTo(samples: number): void {
    // Only packets already here: looking further ahead must not declare anything lost.
    while (this.fifoLen < samples) {
      const slot = this.slots[this.nextSeq % this.capacity]!;
      if (!slot.used || slot.seq !== this.nextSeq || !this.fillOnce(-Infinity)) return;
    }
  }

  /** Decodes (or conceals) the next packet into the fifo; false when it must wait. */
  private fillOnce(nowMs: number): boolean {
    const slot = this.slots[this.nextSeq % this.capacity]!;
    if (slot.used && slot.seq === this.nextSeq) {
      slot.used = false;
      this.nextSeq++;
      this.decodedAny = true;
      let n = 0;
      try {
        n = this.decoder.decode(slot.data.subarray(0, slot.length), this.fifo, this.fifoLen);
      } catch {
        this.counters.decodeErrors++;
        n = this.decoder.conceal(this.lastDuration, this.fifo, this.fifoLen);
        this.pushSegment(n, NaN, 'concealed');
        return true;
      }
      if (n > 0) this.lastDuration = n;
      this.concealedRun = 0;
      this.pushSegment(n, slot.arrivalMs, 'audio');
      return true;
    }
    if (this.highestSeq <= this.nextSeq) return false; // nothing later: maybe just jitter
    // A later packet is here: the gap is loss or reordering. Wait a little for reordering.
    let firstLater: Slot | null = null;
    for (let s = this.nextSeq + 1; s <= this.highestSeq; s++) {
      const candidate = this.slots[s % this.capacity]!;
      if (candidate.used && candidate.seq === s) {
        firstLater = candidate;
        break;
      }
    }
    if (firstLater === null) return false;
    const waited = nowMs - firstLater.arrivalMs;
    if (waited < this.reorderWaitMs && this.highestSeq - this.nextSeq < 3) return false;
    const gap = firstLater.seq - this.nextSeq;
    if (gap > 2 || this.concealedRun >= this.maxConcealSamples) {
      // A long hole (sender paused, or a burst that took its time already spent concealing):
      // go straight to the audio that is here rather than play the hole out.
      this.counters.lost += gap;
      this.nextSeq = firstLater.seq;
      return true;
    }
    const lostSeq = this.nextSeq;
    this.nextSeq++;
    if (firstLater.seq === lostSeq + 1) {
      try {
        const n = this.decoder.decodeFec(firstLater.data.subarray(0, firstLater.length), this.lastDuration, this.fifo, this.fifoLen);
        this.counters.recovered++;
        this.pushSegment(n, NaN, 'recovered');
        return true;
      } catch {
        this.counters.decodeErrors++;
      }
    }
    this.counters.lost++;
    this.concealInto(this.lastDuration, 'concealed');
    return true;
  }

  private concealInto(samples: number, kind: FrameKind): void {
    // libopus conceals in multiples of 2.5 ms.
    const frame = Math.ceil(samples / 120) * 120;
    const n = this.decoder.conceal(frame, this.fifo, this.fifoLen);
    this.concealedRun += n;
    this.pushSegment(n, NaN, kind);
  }

  private pushSegment(samples: number, arrivalMs: number, kind: FrameKind): void {
    if (samples <= 0) return;
    this.fifoLen += samples;
    if (this.segCount === MAX_SEGMENTS) {
      // Merge into the last one rather than lose track of the fifo's end.
      this.segEnd[MAX_SEGMENTS - 1] = this.fifoLen;
      return;
    }
    this.segEnd[this.segCount] = this.fifoLen;
    this.segArrival[this.segCount] = arrivalMs;
    this.segKind[this.segCount] = kind;
    this.segCount++;
  }

  private consume(samples: number): void {
    this.fifo.copyWithin(0, samples, this.fifoLen);
    this.fifoLen -= samples;
    let drop = 0;
    for (let i = 0; i < this.segCount; i++) {
      this.segEnd[i]! -= samples;
      if (this.segEnd[i]! <= 0) drop++;
    }
    const lastDroppedEnd = drop > 0 ? this.segEnd[drop - 1]! : 0;
    if (drop > 0) {
      for (let i = drop; i < this.segCount; i++) {
        this.segEnd[i - drop] = this.segEnd[i]!;
        this.segArrival[i - drop] = this.segArrival[i]!;
        this.segKind[i - drop] = this.segKind[i]!;
      }
      this.segCount -= drop;
    }
    // The new head starts where the last dropped segment ended: below 0 means part of it was output.
    this.headPartial = this.segCount > 0 && (drop === 0 || lastDroppedEnd < 0);
  }

  /** Samples ready ahead of the output: the fifo plus consecutive packets waiting. */
  private levelSamples(): number {
    let level = this.fifoLen;
    for (let s = this.nextSeq; s <= this.highestSeq; s++) {
      const slot = this.slots[s % this.capacity]!;
      if (!slot.used || slot.seq !== s) break;
      level += this.lastDuration;
    }
    return level;
  }

  /**
   * Over each window, the smallest level says how much buffer was never needed. More than
   * one hop plus the jitter margin → drop a hop (cross-faded so it does not click).
   */
  private maybeAccelerate(): void {
    const level = this.levelSamples();
    if (level < this.minLevelInWindow) this.minLevelInWindow = level;
    if (++this.hopsInWindow >= this.windowHops) {
      // Steady state without extra delay the level dips to exactly one hop just before each
      // packet arrives; anything above that (plus a jitter margin) is latency nobody needed.
      const spare = this.minLevelInWindow - FRAME_SIZE;
      const margin = Math.max(FRAME_SIZE, 2 * this.jitterSamples);
      this.hopsInWindow = 0;
      this.minLevelInWindow = Infinity;
      this.dropBudget = spare >= margin ? Math.floor((spare - margin) / FRAME_SIZE) + 1 : 0;
    }
    if (this.dropBudget === 0 || (this.hopsInWindow & 1) === 1) return;
    this.fillTo(FRAME_SIZE * 2);
    if (this.fifoLen < FRAME_SIZE * 2) return;
    this.dropBudget--;
    // Fade the frame being dropped into the one that replaces it.
    const f = this.fifo;
    for (let i = 0; i < CROSSFADE; i++) {
      const w = (i + 0.5) / CROSSFADE;
      f[FRAME_SIZE + i] = f[i]! * (1 - w) + f[FRAME_SIZE + i]! * w;
    }
    this.consume(FRAME_SIZE);
    this.counters.accelerated++;
  }

  private resync(seq: number): void {
    for (const slot of this.slots) slot.used = false;
    this.nextSeq = seq;
    this.highestSeq = seq;
    this.prevTransit = NaN;
    this.counters.resyncs++;
  }

  toJSON(): JitterBufferStats {
    return {
      ...this.counters,
      jitterMs: this.jitterSamples / SAMPLES_PER_MS,
      levelMs: this.started ? this.levelSamples() / SAMPLES_PER_MS : 0,
    };
  }
}
