// Test audio for the denoise tests: the shared clean speech and noise clips (never copied into
// the repo), mixtures at an exact SNR made from them, and the model directory.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readWavTo48kMono } from '../../src/denoise/audio-file.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { zeroPhaseButterworth } from './zero-phase-filter.js';

export function sharedDir(): string {
  const dir = process.env.HUSHCAST_SHARED_DIR ?? path.resolve(PROJECT_ROOT, '..', 'shared');
  if (!existsSync(path.join(dir, 'audio'))) {
    throw new Error(`shared test data not found at ${dir}: set HUSHCAST_SHARED_DIR to the shared/ directory (npm test does)`);
  }
  return dir;
}

export function dfnModelDir(): string {
  const dir = process.env.DFN_MODEL_DIR ?? path.join(sharedDir(), 'models', 'DeepFilterNet3');
  if (!existsSync(path.join(dir, 'enc.onnx'))) {
    throw new Error(`DeepFilterNet3 model not found in ${dir}: set DFN_MODEL_DIR (npm test does) or run npm run models:fetch`);
  }
  return dir;
}

export async function loadSharedAudio(name: 'clean_freesound_33711.wav' | 'noise_freesound_573577.wav' | 'noisy_snr0.wav'): Promise<Float32Array> {
  return (await readWavTo48kMono(path.join(sharedDir(), 'audio', name))).samples;
}

function power(x: Float32Array): number {
  let e = 0;
  for (const v of x) e += v * v;
  return e / x.length;
}

/**
 * Audible-band cut-off for the noise of the mixtures. The shared noise clip starts with an
 * inaudible <20 Hz thump holding ~71 % of its energy; left in, it sets the mixing gain (the
 * nominal "0 dB" mix is ~6.5 dB in the speech band) and dominates SI-SDR, rewarding whichever
 * engine happens to high-pass its input (RNNoise does).
 */
export const NOISE_HIGH_PASS_HZ = 20;

/**
 * clean + g·noise (noise looped to length and high-passed at 20 Hz) with g chosen for exactly
 * `snrDb` in the audible band; returns the scaled parts too.
 */
export function mixAtSnr(clean: Float32Array, noise: Float32Array, snrDb: number): { noisy: Float32Array; clean: Float32Array } {
  const looped = new Float32Array(clean.length);
  for (let i = 0; i < looped.length; i++) looped[i] = noise[i % noise.length]!;
  const n = zeroPhaseButterworth(looped, 'highpass', NOISE_HIGH_PASS_HZ);
  const g = Math.sqrt(power(clean) / (power(n) * 10 ** (snrDb / 10)));
  const noisy = new Float32Array(clean.length);
  let peak = 0;
  for (let i = 0; i < noisy.length; i++) {
    noisy[i] = clean[i]! + g * n[i]!;
    peak = Math.max(peak, Math.abs(noisy[i]!));
  }
  // Keep headroom so no engine sees clipping; scale clean identically.
  const s = peak > 0.9 ? 0.9 / peak : 1;
  const c = new Float32Array(clean.length);
  for (let i = 0; i < noisy.length; i++) {
    noisy[i] = noisy[i]! * s;
    c[i] = clean[i]! * s;
  }
  return { noisy, clean: c };
}

/** Scale-invariant SDR in dB (Le Roux et al. 2019), mean removed. */
export function siSdr(estimate: Float32Array, reference: Float32Array): number {
  const n = Math.min(estimate.length, reference.length);
  let me = 0;
  let mr = 0;
  for (let i = 0; i < n; i++) {
    me += estimate[i]!;
    mr += reference[i]!;
  }
  me /= n;
  mr /= n;
  let dot = 0;
  let rr = 0;
  for (let i = 0; i < n; i++) {
    dot += (estimate[i]! - me) * (reference[i]! - mr);
    rr += (reference[i]! - mr) ** 2;
  }
  const a = dot / rr;
  let ts = 0;
  let es = 0;
  for (let i = 0; i < n; i++) {
    const t = a * (reference[i]! - mr);
    const e = estimate[i]! - me - t;
    ts += t * t;
    es += e * e;
  }
  return 10 * Math.log10(ts / es);
}
