// Waveform overview of an Ogg Opus recording for the browser player, from the
// peaks side file the recorder wrote as it went (one byte per 10 ms frame): no
// decode, a few hundred KB read for an hour. A recording without the side file
// (it could not be written) is decoded once in a streaming pass instead.
import { readFile } from 'node:fs/promises';
import { decodeOggOpus, readOggOpusInfo } from './ogg-opus-file.js';
import { PEAK_SAMPLES, peaksPathFor } from './ogg-opus-recorder.js';
import type { WavPeaks } from './wav-peaks.js';

export async function opusPeaks(filePath: string, buckets: number): Promise<WavPeaks> {
  if (!Number.isInteger(buckets) || buckets < 1) throw new RangeError(`bad bucket count ${buckets}`);
  const info = await readOggOpusInfo(filePath);
  const frames = Math.ceil(info.samples / PEAK_SAMPLES);
  let frameBytes: Uint8Array;
  try {
    frameBytes = await readFile(peaksPathFor(filePath));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    frameBytes = await decodedFramePeaks(filePath, info, frames);
  }
  // After a crash the side file may lag the audio by one page (0.5 s): those frames read as 0.
  const count = Math.max(0, Math.min(buckets, frames));
  const peaks = new Array<number>(count).fill(0);
  for (let f = 0; f < Math.min(frames, frameBytes.length); f++) {
    const b = Math.min(count - 1, Math.floor((f * count) / frames));
    if (frameBytes[f]! > peaks[b]!) peaks[b] = frameBytes[f]!;
  }
  for (let b = 0; b < count; b++) peaks[b] = Math.round((peaks[b]! / 255) * 1000) / 1000;
  return { sampleRate: 48_000, durationMs: info.durationMs, peaks };
}

async function decodedFramePeaks(filePath: string, info: Awaited<ReturnType<typeof readOggOpusInfo>>, frames: number): Promise<Uint8Array> {
  const out = new Uint8Array(frames);
  let i = 0;
  for await (const chunk of decodeOggOpus(filePath, info)) {
    for (let at = 0; at + 1 < chunk.length; at += 2, i++) {
      const v = chunk.readInt16LE(at);
      const a = Math.min(255, Math.ceil(((v < 0 ? -v : v) / 32768) * 255));
      const f = Math.floor(i / PEAK_SAMPLES);
      if (a > out[f]!) out[f] = a;
    }
  }
  return out;
}
