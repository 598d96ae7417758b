// Crash repair for recordings: a process killed mid-stream leaves a WAV whose
// header sizes lag behind the data that reached the disk (the recorder updates
// them every flush, data first). Repair trusts the file length: the data chunk
// runs to the end of the file, cut down to whole sample frames.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { parseWavHeader, serializeWavHeader, WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES, WavFormatError } from './wav.js';

/** Enough for the header of any file we write and of common tools' files (LIST chunks etc.). */
const HEADER_PROBE_BYTES = 64 * 1024;

export interface WavRepairResult {
  sampleRate: number;
  dataBytes: number;
  durationMs: number;
  /** File size after repair. */
  sizeBytes: number;
  /** Whether anything was rewritten (false: the header was already final). */
  changed: boolean;
  /** Bytes of a partial sample frame cut off the end. */
  truncatedBytes: number;
}

export interface WavRepairOptions {
  /** Sample rate for a file that died before its header was written (shorter than 44 bytes): 16-bit mono. */
  fallbackSampleRate?: number;
}

/** Makes `filePath` a consistent, playable WAV in place. Throws WavFormatError for files that are not ours to fix. */
export function repairWav(filePath: string, options: WavRepairOptions = {}): WavRepairResult {
  const fd = openSync(filePath, 'r+');
  try {
    return repairOpen(fd, filePath, options);
  } finally {
    closeSync(fd);
  }
}

function repairOpen(fd: number, filePath: string, options: WavRepairOptions): WavRepairResult {
  const size = fstatSync(fd).size;
  const probe = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
  readFully(fd, probe);
  if (size < WAV_HEADER_BYTES && options.fallbackSampleRate !== undefined) {
    // Killed between creating the file and writing its first header: an empty recording.
    const header = serializeWavHeader({ sampleRate: options.fallbackSampleRate, channels: 1, bitsPerSample: 16 }, 0);
    ftruncateSync(fd, 0);
    writeFully(fd, header, 0);
    fsyncSync(fd);
    return { sampleRate: options.fallbackSampleRate, dataBytes: 0, durationMs: 0, sizeBytes: WAV_HEADER_BYTES, changed: true, truncatedBytes: 0 };
  }
  let h;
  try {
    h = parseWavHeader(probe);
  } catch (err) {
    if (err instanceof WavFormatError) throw new WavFormatError(`${filePath}: ${err.message}`);
    throw err;
  }
  if (h.blockAlign <= 0 || h.sampleRate <= 0) throw new WavFormatError(`${filePath}: bad fmt chunk (block align ${h.blockAlign}, rate ${h.sampleRate})`);
  const durationOf = (bytes: number) => Math.round((bytes / h.blockAlign / h.sampleRate) * 1000);

  const finalized = h.riffSize === size - 8 && endsWithChunks(fd, h.dataOffset + h.dataSize + (h.dataSize & 1), size);
  if (finalized) {
    return { sampleRate: h.sampleRate, dataBytes: h.dataSize, durationMs: durationOf(h.dataSize), sizeBytes: size, changed: false, truncatedBytes: 0 };
  }
  const available = Math.max(0, size - h.dataOffset);
  let dataBytes = Math.min(available - (available % h.blockAlign), WAV_MAX_DATA_BYTES - (h.dataOffset - WAV_HEADER_BYTES));
  dataBytes -= dataBytes % h.blockAlign;
  const newSize = h.dataOffset + dataBytes;
  if (newSize !== size) ftruncateSync(fd, newSize);
  const sizes = Buffer.alloc(4);
  sizes.writeUInt32LE(newSize - 8, 0);
  writeFully(fd, sizes, 4);
  sizes.writeUInt32LE(dataBytes, 0);
  writeFully(fd, sizes, h.dataOffset - 4);
  fsyncSync(fd);
  return { sampleRate: h.sampleRate, dataBytes, durationMs: durationOf(dataBytes), sizeBytes: newSize, changed: true, truncatedBytes: size - newSize };
}

/**
 * Whether [from, size) is a run of well-formed chunks (printable ids, bodies inside the file),
 * as after the data chunk of a finalized file with trailing LIST/id3 chunks. Audio bytes past
 * a lagging data size almost never look like that, so they are not mistaken for chunks.
 */
function endsWithChunks(fd: number, from: number, size: number): boolean {
  const head = Buffer.alloc(8);
  let at = from;
  for (let chunks = 0; at < size && chunks < 64; chunks++) {
    if (at + 8 > size || readSync(fd, head, 0, 8, at) !== 8) return false;
    for (let i = 0; i < 4; i++) if (head[i]! < 0x20 || head[i]! > 0x7e) return false;
    const body = head.readUInt32LE(4);
    at += 8 + body + (body & 1);
  }
  return at === size;
}

function readFully(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, done);
    if (n === 0) throw new Error('file shrank while being repaired');
    done += n;
  }
}

function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}
