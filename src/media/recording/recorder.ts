// Writes a stream's audio (48 kHz mono float frames, what listeners hear) to a
// 16-bit PCM WAV file as it arrives. Memory stays flat however long the stream:
// one reusable buffer of FLUSH_MS of audio, written with fs.writeSync when full,
// after which the header's sizes are rewritten so that a process killed at any
// moment (SIGKILL) leaves a playable file that lacks at most the last FLUSH_MS.
// Disk errors never throw out of write(): recording stops, the file is left
// finalized at the last good length, and onError tells the owner once.
import { close, closeSync, fchmodSync, fsync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { serializeWavHeader, setWavDataSize, WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES } from './wav.js';

/**
 * Audio held in memory before it goes to disk. Half a second (not the one second the
 * contract allows) so that pipeline latency on top of it still keeps a SIGKILL loss ≤ 1 s.
 */
export const FLUSH_MS = 500;

const BYTES_PER_SAMPLE = 2;
const PCM_FORMAT = { channels: 1, bitsPerSample: 16 } as const;

export interface RecorderResult {
  durationMs: number;
  /** File size in bytes, header included. */
  sizeBytes: number;
  sampleRate: number;
  /** false when a disk error stopped recording early (the file holds what was written before it). */
  complete: boolean;
  error: string | null;
}

export interface WavRecorderOptions {
  /** Audio buffered between writes, in ms (default FLUSH_MS). */
  flushMs?: number;
}

export class WavRecorder {
  /** Called once when a disk error stops the recording; the message is meant for the broadcaster. */
  onError?: (message: string) => void;

  private fd: number | null;
  private readonly header: Buffer;
  private readonly pcm: Buffer;
  private pcmUsed = 0;
  /** Data bytes known to be on disk (whole samples only). */
  private dataOnDisk = 0;
  private samplesAccepted = 0;
  private failure: string | null = null;
  private result: RecorderResult | null = null;

  private constructor(
    readonly filePath: string,
    readonly sampleRate: number,
    fd: number,
    header: Buffer,
    flushMs: number,
  ) {
    this.fd = fd;
    this.header = header;
    const flushSamples = Math.max(1, Math.round((sampleRate * flushMs) / 1000));
    this.pcm = Buffer.allocUnsafe(flushSamples * BYTES_PER_SAMPLE);
  }

  /**
   * Creates `filePath` (never overwrites; creates the folder) with a provisional header.
   * Throws an Error naming the file and the OS reason when it cannot be created.
   */
  static open(filePath: string, sampleRate: number, options: WavRecorderOptions = {}): WavRecorder {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad sample rate ${sampleRate}`);
    const flushMs = options.flushMs ?? FLUSH_MS;
    if (!(flushMs > 0 && flushMs <= 1000)) throw new RangeError(`flushMs must be in (0, 1000], got ${flushMs}`);
    const header = serializeWavHeader({ sampleRate, ...PCM_FORMAT }, 0);
    let fd: number;
    try {
      // Private audio: folder 0700, file 0600 whatever the umask.
      mkdirSync(path.dirname(filePath), { recursive: true, mode: 0o700 });
      fd = openSync(filePath, 'wx', 0o600);
      fchmodSync(fd, 0o600);
    } catch (err) {
      throw new Error(`cannot create recording file ${filePath}: ${reason(err)}`, { cause: err });
    }
    try {
      writeAll(fd, header, 0, header.length, 0);
    } catch (err) {
      closeSync(fd);
      throw new Error(`cannot write recording file ${filePath}: ${reason(err)}`, { cause: err });
    }
    return new WavRecorder(filePath, sampleRate, fd, header, flushMs);
  }

  /** The disk error that stopped recording, or null. */
  get error(): string | null {
    return this.failure;
  }

  /** Samples handed to write() and kept (stops counting after an error). */
  get samplesWritten(): number {
    return this.samplesAccepted;
  }

  /** Appends a frame of float samples in [-1, 1] (clipped; NaN → 0). Never throws, never allocates. */
  write(frame: Float32Array): void {
    if (this.fd === null) return;
    let i = 0;
    const n = frame.length;
    while (i < n) {
      if (this.pcmUsed === this.pcm.length && !this.flush()) return;
      const room = (this.pcm.length - this.pcmUsed) / BYTES_PER_SAMPLE;
      const end = Math.min(n, i + room);
      let at = this.pcmUsed;
      for (; i < end; i++) {
        const s = frame[i]!;
        const clipped = s > 1 ? 1 : s < -1 ? -1 : s === s ? s : 0;
        this.pcm.writeInt16LE(Math.round(clipped * 32767), at);
        at += BYTES_PER_SAMPLE;
      }
      this.samplesAccepted += (at - this.pcmUsed) / BYTES_PER_SAMPLE;
      this.pcmUsed = at;
    }
    if (this.pcmUsed === this.pcm.length) this.flush();
  }

  /** Flushes and finalizes the header (synchronously), then fsyncs and closes in the background. Idempotent. */
  close(): RecorderResult {
    if (this.result) return this.result;
    if (this.fd !== null) {
      if (this.flush()) this.finish(true);
    }
    const dataBytes = this.dataOnDisk;
    this.result = {
      durationMs: Math.round((dataBytes / BYTES_PER_SAMPLE / this.sampleRate) * 1000),
      sizeBytes: WAV_HEADER_BYTES + dataBytes,
      sampleRate: this.sampleRate,
      complete: this.failure === null,
      error: this.failure,
    };
    return this.result;
  }

  /** Buffered PCM → disk, then the header sizes. false when recording has stopped. */
  private flush(): boolean {
    const fd = this.fd;
    if (fd === null) return false;
    if (this.pcmUsed === 0) return true;
    if (this.dataOnDisk + this.pcmUsed > WAV_MAX_DATA_BYTES) {
      this.fail('recording stopped: the 4 GiB WAV size limit was reached');
      return false;
    }
    let written = 0;
    try {
      while (written < this.pcmUsed) {
        written += writeSync(fd, this.pcm, written, this.pcmUsed - written, WAV_HEADER_BYTES + this.dataOnDisk + written);
      }
    } catch (err) {
      // A partial write leaves whole samples worth keeping; fail() trims any half sample.
      this.dataOnDisk += written - (written % BYTES_PER_SAMPLE);
      this.fail(`recording stopped: could not write ${path.basename(this.filePath)} (${reason(err)})`);
      return false;
    }
    this.dataOnDisk += written;
    this.pcmUsed = 0;
    try {
      // Data first, sizes second: the header never claims bytes that are not on disk.
      setWavDataSize(this.header, this.dataOnDisk);
      writeAll(fd, this.header, 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      this.fail(`recording stopped: could not update the header of ${path.basename(this.filePath)} (${reason(err)})`);
      return false;
    }
    return true;
  }

  /** Stops recording after a disk error: keeps the file playable at the last good length, reports once. */
  private fail(message: string): void {
    if (this.failure !== null) return;
    this.failure = message;
    let extra = '';
    try {
      ftruncateSync(this.fd!, WAV_HEADER_BYTES + this.dataOnDisk);
      setWavDataSize(this.header, this.dataOnDisk);
      writeAll(this.fd!, this.header, 0, WAV_HEADER_BYTES, 0);
    } catch (err) {
      // Start-up repair fixes the sizes from the file length if even this fails.
      extra = `; header not finalized (${reason(err)})`;
      this.failure += extra;
    }
    this.finish(false);
    try {
      this.onError?.(this.failure);
    } catch (err) {
      // A faulty listener must not break the media hot path that called write().
      console.error(`recorder onError listener threw for ${this.filePath}:`, err);
    }
  }

  /**
   * Releases the descriptor. On a normal close the fsync runs on libuv's thread pool: an
   * fsync can take tens of ms on a busy disk, and this runs on the media worker's hop
   * thread, where it would stall every other stream. The data and final header are already
   * written (page cache), so a killed process loses nothing either way.
   */
  private finish(sync: boolean): void {
    const fd = this.fd!;
    this.fd = null;
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
