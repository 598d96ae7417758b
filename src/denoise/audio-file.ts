// WAV files in and out of the denoise engines: any PCM/float WAV in (any rate, any channel
// count) → 48 kHz mono float; 48 kHz mono float → 16-bit PCM WAV out. Resampling is wavefile's
// windowed-sinc resampler (offline use only: the CLI, benchmarks and tests).
import { readFile, writeFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { SAMPLE_RATE } from './denoiser.js';

const { WaveFile } = wavefile;

export interface DecodedAudio {
  samples: Float32Array;
  /** Of the file before conversion. */
  sampleRate: number;
  channels: number;
}

/** Decodes WAV bytes to 48 kHz mono in [-1, 1] (channels averaged). Throws a clear Error on bad input. */
export function decodeWavTo48kMono(bytes: Uint8Array, name = 'input'): DecodedAudio {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (e) {
    throw new Error(`${name} is not a readable WAV file: ${(e as Error).message}`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number; audioFormat: number };
  const { sampleRate, numChannels: channels } = fmt;
  if (!(sampleRate > 0) || !(channels > 0)) throw new Error(`${name}: WAV header has no sample rate or channels`);
  wav.toBitDepth('32f');
  if (sampleRate !== SAMPLE_RATE) wav.toSampleRate(SAMPLE_RATE, { method: 'sinc' });
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array | Float64Array[];
  const chans = channels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  const n = chans[0]!.length;
  const samples = new Float32Array(n);
  for (const ch of chans) for (let i = 0; i < n; i++) samples[i] = samples[i]! + ch[i]! / chans.length;
  return { samples, sampleRate, channels };
}

export async function readWavTo48kMono(file: string): Promise<DecodedAudio> {
  return decodeWavTo48kMono(await readFile(file), file);
}

/** 48 kHz mono float → 16-bit PCM WAV bytes (clipped to [-1, 1]). */
export function encodeWav48kMono(samples: Float32Array): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]!));
    pcm[i] = Math.round(x < 0 ? x * 32768 : x * 32767);
  }
  const wav = new WaveFile();
  wav.fromScratch(1, SAMPLE_RATE, '16', pcm);
  return wav.toBuffer();
}

export async function writeWav48kMono(file: string, samples: Float32Array): Promise<void> {
  await writeFile(file, encodeWav48kMono(samples));
}
