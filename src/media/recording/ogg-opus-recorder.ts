// Writes a stream's recording as Ogg Opus (RFC 7845) as it goes, from Opus
// packets: by default the very packets the session's live encoder makes for
// listeners (no second encode), or, for the raw companion, from frames it
// encodes itself. Crash safety matches the WAV recorder's: packets are held in
// one reusable page buffer and written as a complete page (CRC included) at
// least every FLUSH_MS, so a SIGKILL leaves whole pages followed by at most one
// torn page, which start-up repair (ogg-opus-repair.ts) cuts off before it
// marks the last page end-of-stream. Disk errors never throw out of write():
// recording stops, the file is cut to its last whole page and marked
// end-of-stream, and onError tells the owner once.
//
// Granule positions (RFC 7845 §4): a page's granule is the number of 48 kHz
// samples of every packet completed so far, pre-skip included; the last page's
// granule is pre-skip + the samples handed in, so the file plays exactly that
// many samples: the one extra packet of silence written at close (which flushes
// the encoder's lookahead) is trimmed by the decoder.
//
// Waveform peaks go to a side file (PEAKS_SUFFIX) as they are recorded: one
// byte per 10 ms frame, the frame's largest absolute sample × 255 rounded up,
// written right after each page, so the player's waveform needs no decode.
import { close, closeSync, fsync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { FLUSH_MS, type RecorderResult } from './recorder.js';
import { lacePacket, lacingValues, OGG_BOS, OGG_EOS, OGG_MAX_PAGE_BYTES, OGG_MAX_SEGMENTS, writeOggPage } from './ogg.js';
import { serializeOpusHead, serializeOpusTags } from './opus-head.js';
import { repairOggOpusFd } from './ogg-opus-repair.js';
import { OpusEncoder } from '../session/opus-encoder.js';

export const OPUS_SAMPLE_RATE = 48_000;
/** Samples per peak byte in the side file: one 10 ms hop. */
export const PEAK_SAMPLES = 480;
export const OPUS_VENDOR = 'hushcast (libopus, CELT)';

/** `x.opus` → `x.peaks`. */
export function peaksPathFor(opusPath: string): string {
  return opusPath.replace(/\.opus$/, '') + '.peaks';
}

export interface OggOpusRecorderOptions {
  /**
   * The session's live encoder whose packets arrive through writePacket(); used by the recorder
   * only once, at close, for the closing packet of silence. Without it the recorder encodes the
   * frames handed to write() with an encoder of its own.
   */
  sharedEncoder?: OpusEncoder;
  /** Audio per page, in ms (default FLUSH_MS). */
  flushMs?: number;
  /** Write the waveform side file (default true). */
  peaks?: boolean;
  /** Ogg stream serial number (default random). */
  serial?: number;
}

const SAMPLES_20MS = 960;

export class OggOpusRecorder {
  /** Called once when a disk error stops the recording; the message is meant for the broadcaster. */
  onError?: (message: string) => void;

  readonly preSkip: number;
  private fd: number | null;
  private peaksFd: number | null;
  private readonly encoder: OpusEncoder;
  private readonly ownsEncoder: boolean;
  private readonly serial: number;
  private readonly flushSamples: number;
  private sequence = 0;
  /** Samples of every packet written to pages so far (+ the page being filled: pageGranule). */
  private granule = 0;
  private readonly laces = new Uint8Array(OGG_MAX_SEGMENTS);
  private segments = 0;
  private readonly body = Buffer.allocUnsafe(OGG_MAX_SEGMENTS * 255);
  private bodyUsed = 0;
  private pageSamples = 0;
  private readonly page = Buffer.allocUnsafe(OGG_MAX_PAGE_BYTES);
  /** Bytes known to be on disk, all of them whole pages. */
  private bytesOnDisk: number;
  private readonly peaks: Buffer;
  private peaksUsed = 0;
  private peaksOnDisk = 0;
  /** Own-encoder mode: frames waiting for a 20 ms packet. */
  private readonly pending = new Float32Array(SAMPLES_20MS);
  private pendingSamples = 0;
  private samplesAccepted = 0;
  /** Granule of the last page on disk. */
  private finalGranule = 0;
  private failure: string | null = null;
  private result: RecorderResult | null = null;

  private constructor(
    readonly filePath: string,
    readonly peaksPath: string | null,
    fd: number,
    peaksFd: number | null,
    headerBytes: number,
    serial: number,
    options: OggOpusRecorderOptions,
    encoder: OpusEncoder,
  ) {
    this.fd = fd;
    this.peaksFd = peaksFd;
    this.bytesOnDisk = headerBytes;
    this.serial = serial;
    this.sequence = 2;
    this.encoder = encoder;
    this.ownsEncoder = options.sharedEncoder === undefined;
    this.preSkip = encoder.lookahead;
    const flushMs = options.flushMs ?? FLUSH_MS;
    this.flushSamples = Math.max(1, Math.round((OPUS_SAMPLE_RATE * flushMs) / 1000));
    // Peaks of one page's audio, with room for the frames of one more packet.
    this.peaks = Buffer.alloc(Math.ceil(this.flushSamples / PEAK_SAMPLES) + 16);
  }

  /**
   * Creates `filePath` (never overwrites; creates the folder) with the two header pages, and
   * its peaks side file. Throws an Error naming the file and the OS reason when it cannot.
   */
  static open(filePath: string, options: OggOpusRecorderOptions = {}): OggOpusRecorder {
    const flushMs = options.flushMs ?? FLUSH_MS;
    if (!(flushMs > 0 && flushMs <= 1000)) throw new RangeError(`flushMs must be in (0, 1000], got ${flushMs}`);
    const serial = options.serial ?? Math.floor(Math.random() * 0x1_0000_0000);
    const wantPeaks = options.peaks ?? true;
    const peaksPath = wantPeaks ? peaksPathFor(filePath) : null;
    let fd: number;
    let peaksFd: number | null = null;
    try {
      mkdirSync(path.dirname(filePath), { recursive: true });
      fd = openSync(filePath, 'wx+');
    } catch (err) {
      throw new Error(`cannot create recording file ${filePath}: ${reason(err)}`, { cause: err });
    }
    const encoder = options.sharedEncoder ?? new OpusEncoder();
    try {
      const headers = headerPages(serial, encoder.lookahead);
      writeAll(fd, headers, 0, headers.length, 0);
      if (peaksPath !== null) peaksFd = openSync(peaksPath, 'w');
      return new OggOpusRecorder(filePath, peaksPath, fd, peaksFd, headers.length, serial, options, encoder);
    } catch (err) {
      closeSync(fd);
      if (peaksFd !== null) closeSync(peaksFd);
      if (!options.sharedEncoder) encoder.close();
      throw new Error(`cannot write recording file ${filePath}: ${reason(err)}`, { cause: err });
    }
  }

  /** The disk error that stopped recording, or null. */
  get error(): string | null {
    return this.failure;
  }

  /** Samples recorded (in packets written or queued; stops counting after an error). */
  get samplesWritten(): number {
    return this.samplesAccepted;
  }

  /**
   * A 10 ms frame of what listeners hear: its peak for the side file and, in own-encoder mode,
   * its audio. Never throws, never allocates (own-encoder mode: the encoder's packet).
   */
  write(frame: Float32Array): void {
    if (this.fd === null) return;
    this.notePeaks(frame);
    if (this.ownsEncoder) {
      this.pending.set(frame, this.pendingSamples);
      this.pendingSamples += frame.length;
      if (this.pendingSamples >= SAMPLES_20MS) this.encodePending();
    }
  }

  /** One Opus packet of `samples` 48 kHz samples, appended (copied) to the page being filled. Never throws. */
  writePacket(packet: Uint8Array, samples: number): void {
    if (this.fd === null) return;
    if (packet.length > this.body.length) {
      this.fail(`recording stopped: an Opus packet of ${packet.length} bytes does not fit an Ogg page`);
      return;
    }
    if (!this.append(packet, samples)) return;
    this.samplesAccepted += samples;
    if (this.pageSamples >= this.flushSamples) this.flush(0);
  }

  /**
   * Writes what is left, the closing packet of silence and the last page (end-of-stream, final
   * granule = pre-skip + samples), synchronously; fsync and close run in the background. Idempotent.
   */
  close(): RecorderResult {
    if (this.result) return this.result;
    if (this.fd !== null) {
      if (this.ownsEncoder && this.pendingSamples > 0) this.encodePending();
      const recorded = this.samplesAccepted;
      // Flushes the encoder's lookahead: the last `preSkip` samples of audio are in this packet.
      const silence = this.pending.fill(0, 0, PEAK_SAMPLES);
      let tail: Buffer | null = null;
      try {
        tail = this.encoder.encode(silence, PEAK_SAMPLES);
      } catch (err) {
        console.error(`recorder: the closing Opus packet of ${this.filePath} failed; the file ends ${this.preSkip} samples early:`, err);
      }
      if (tail !== null && this.fd !== null) this.append(tail, PEAK_SAMPLES);
      if (this.fd !== null && this.flush(OGG_EOS, tail !== null ? this.preSkip + recorded : -1)) this.finish(true);
    }
    const samples = this.playableSamples();
    this.result = {
      durationMs: Math.round((samples / OPUS_SAMPLE_RATE) * 1000),
      sizeBytes: this.bytesOnDisk,
      sampleRate: OPUS_SAMPLE_RATE,
      complete: this.failure === null,
      error: this.failure,
    };
    if (this.ownsEncoder) this.encoder.close();
    return this.result;
  }

  /** Samples a player outputs for what is on disk: the last page's granule minus pre-skip. */
  private playableSamples(): number {
    return Math.max(0, this.finalGranule - this.preSkip);
  }

  /** The packet into the page being filled (a full page goes to disk first). false when recording has stopped. */
  private append(packet: Uint8Array, samples: number): boolean {
    if (this.segments + lacingValues(packet.length) > OGG_MAX_SEGMENTS || this.bodyUsed + packet.length > this.body.length) {
      if (!this.flush(0)) return false;
    }
    this.segments = lacePacket(this.laces, this.segments, packet.length);
    this.body.set(packet, this.bodyUsed);
    this.bodyUsed += packet.length;
    this.pageSamples += samples;
    return true;
  }

  private encodePending(): void {
    const n = this.pendingSamples;
    this.pendingSamples = 0;
    let packet: Buffer;
    try {
      packet = this.encoder.encode(this.pending, n);
    } catch (err) {
      this.fail(`recording stopped: Opus encoding failed (${reason(err)})`);
      return;
    }
    this.writePacket(packet, n);
  }

  private notePeaks(frame: Float32Array): void {
    if (this.peaksFd === null) return;
    for (let start = 0; start < frame.length; start += PEAK_SAMPLES) {
      let max = 0;
      const end = Math.min(frame.length, start + PEAK_SAMPLES);
      for (let i = start; i < end; i++) {
        const a = frame[i]! < 0 ? -frame[i]! : frame[i]!;
        if (a > max) max = a;
      }
      if (this.peaksUsed === this.peaks.length) this.flushPeaks();
      this.peaks[this.peaksUsed++] = max >= 1 ? 255 : Math.ceil(max * 255);
    }
  }

  /**
   * The page being filled → disk (one write), then the peaks. `granule` overrides the page's
   * granule (the final page's end trim). false when recording has stopped.
   */
  private flush(flags: number, granule = -1): boolean {
    const fd = this.fd;
    if (fd === null) return false;
    if (this.segments === 0 && (flags & OGG_EOS) === 0) return true;
    this.granule += this.pageSamples;
    const pageGranule = granule >= 0 ? granule : this.granule;
    const length = writeOggPage(
      this.page,
      0,
      { flags, granule: pageGranule, serial: this.serial, sequence: this.sequence },
      this.laces,
      this.segments,
      this.body,
      this.bodyUsed,
    );
    let written = 0;
    try {
      while (written < length) written += writeSync(fd, this.page, written, length - written, this.bytesOnDisk + written);
    } catch (err) {
      this.fail(`recording stopped: could not write ${path.basename(this.filePath)} (${reason(err)})`);
      return false;
    }
    this.bytesOnDisk += length;
    this.finalGranule = pageGranule;
    this.sequence++;
    this.segments = 0;
    this.bodyUsed = 0;
    this.pageSamples = 0;
    this.flushPeaks();
    return true;
  }

  private flushPeaks(): void {
    const fd = this.peaksFd;
    if (fd === null || this.peaksUsed === 0) return;
    try {
      writeAll(fd, this.peaks, 0, this.peaksUsed, this.peaksOnDisk);
      this.peaksOnDisk += this.peaksUsed;
    } catch (err) {
      // The waveform is a convenience: the player falls back to decoding. The audio goes on.
      console.error(`recorder: writing the peaks of ${this.filePath} failed; its waveform will be decoded instead:`, err);
      closePeaks(fd, this.peaksPath!);
      this.peaksFd = null;
    }
    this.peaksUsed = 0;
  }

  /** Stops recording after a disk error: the file cut to its last whole page, marked end-of-stream; reports once. */
  private fail(message: string): void {
    if (this.failure !== null) return;
    this.failure = message;
    try {
      ftruncateSync(this.fd!, this.bytesOnDisk);
      const r = repairOggOpusFd(this.fd!, this.filePath);
      this.finalGranule = r.granule;
      this.bytesOnDisk = r.sizeBytes;
    } catch (err) {
      // Start-up repair marks the end if even this fails.
      this.failure += `; end of stream not marked (${reason(err)})`;
    }
    this.finish(false);
    try {
      this.onError?.(this.failure);
    } catch (err) {
      // A faulty listener must not break the media hot path that called write().
      console.error(`recorder onError listener threw for ${this.filePath}:`, err);
    }
  }

  /** Releases the descriptors; fsync off the hop thread (see WavRecorder.finish). */
  private finish(sync: boolean): void {
    const fd = this.fd!;
    this.fd = null;
    if (this.peaksFd !== null) {
      closePeaks(this.peaksFd, this.peaksPath!);
      this.peaksFd = null;
    }
    const file = this.filePath;
    const closeFd = () =>
      close(fd, (err) => {
        if (err) console.error(`recorder: closing ${file} failed:`, err);
      });
    if (!sync) {
      closeFd();
      return;
    }
    fsync(fd, (err) => {
      if (err) console.error(`recorder: fsync of ${file} failed; the recording may not survive a power cut:`, err);
      closeFd();
    });
  }
}

/** The BOS page with OpusHead and the page with OpusTags (RFC 7845 §3: each alone on its page, granule 0). */
function headerPages(serial: number, preSkip: number): Buffer {
  const head = serializeOpusHead({ channels: 1, preSkip, inputSampleRate: OPUS_SAMPLE_RATE });
  const tags = serializeOpusTags(OPUS_VENDOR);
  const out = Buffer.alloc(2 * 27 + 2 + head.length + tags.length + 2);
  const laces = new Uint8Array(OGG_MAX_SEGMENTS);
  let at = writeOggPage(out, 0, { flags: OGG_BOS, granule: 0, serial, sequence: 0 }, laces, lacePacket(laces, 0, head.length), head, head.length);
  at += writeOggPage(out, at, { flags: 0, granule: 0, serial, sequence: 1 }, laces, lacePacket(laces, 0, tags.length), tags, tags.length);
  return out.subarray(0, at);
}

function closePeaks(fd: number, file: string): void {
  close(fd, (err) => {
    if (err) console.error(`recorder: closing ${file} failed:`, err);
  });
}

function writeAll(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buf, offset + done, length - done, position + done);
}

function reason(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    const e = err as NodeJS.ErrnoException;
    return e.code === 'ENOSPC' ? 'disk full (ENOSPC)' : `${e.code}: ${e.message.replace(/^\w+: /, '')}`;
  }
  return err instanceof Error ? err.message : String(err);
}
