// Waveform overview of a recording for the browser player: the largest
// absolute sample per bucket, read from the file in one streaming pass (memory
// stays flat for hour-long recordings; the browser draws the waveform without
// downloading and decoding the whole file, and plays it with Range requests).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseWavHeader, WavFormatError } from './wav.js';

const HEADER_PROBE_BYTES = 64 * 1024;

export interface WavPeaks {
  sampleRate: number;
  durationMs: number;
  /** One value per bucket in [0, 1], 3 decimals. Fewer than requested when the file has fewer frames. */
  peaks: number[];
}

/** Peaks of a 16-bit PCM WAV in `buckets` equal spans of time. */
export async function wavPeaks(filePath: string, buckets: number): Promise<WavPeaks> {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`bad bucket count ${buckets}`);
  const fh = await open(filePath, 'r');
  let dataOffset: number;
  let dataBytes: number;
  let channels: number;
  let sampleRate: number;
  try {
    const { size } = await fh.stat();
    const probe = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    await fh.read(probe, 0, probe.length, 0);
    const h = parseWavHeader(probe);
    if (h.audioFormat !== 1 || h.bitsPerSample !== 16) throw new WavFormatError(`${filePath}: only 16-bit PCM is supported`);
    // A recording still being written (or never repaired) may hold more than its header says.
    const available = Math.max(0, size - h.dataOffset);
    dataBytes = h.dataSize > 0 && h.dataSize <= available ? h.dataSize : available;
    dataBytes -= dataBytes % h.blockAlign;
    ({ dataOffset, channels, sampleRate } = { dataOffset: h.dataOffset, channels: h.channels, sampleRate: h.sampleRate });
  } finally {
    await fh.close();
  }
  const frames = dataBytes / (2 * channels);
  const count = Math.max(0, Math.min(buckets, frames));
  const peaks = new Array<number>(count).fill(0);
  if (count > 0) {
    const samplesPerBucket = (frames * channels) / count;
    let sampleIndex = 0;
    let carry = -1; // low byte of a sample split across two chunks
    const stream = createReadStream(filePath, { start: dataOffset, end: dataOffset + dataBytes - 1, highWaterMark: 256 * 1024 });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let i = 0;
      if (carry >= 0) {
        take(((chunk[0]! << 8) | carry) << 16 >> 16);
        carry = -1;
        i = 1;
      }
      for (; i + 1 < chunk.length; i += 2) take(chunk.readInt16LE(i));
      if (i < chunk.length) carry = chunk[i]!;
    }
    function take(v: number): void {
      const b = Math.min(count - 1, Math.floor(sampleIndex / samplesPerBucket));
      const a = v < 0 ? -v : v;
      if (a > peaks[b]!) peaks[b] = a;
      sampleIndex++;
    }
    for (let b = 0; b < count; b++) peaks[b] = Math.round((peaks[b]! / 32768) * 1000) / 1000;
  }
  return { sampleRate, durationMs: Math.round((frames / sampleRate) * 1000), peaks };
}
