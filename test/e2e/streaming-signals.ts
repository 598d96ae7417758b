// Signals the streaming tests and the latency benchmark make themselves (no
// audio is ever committed): a fake-microphone WAV, and the alignment /
// correlation used to check that what a listener heard is what was sent.
import { writeFileSync } from 'node:fs';
import { serializeWavHeader } from '../../src/media/recording/wav.js';
import { prng } from '../support/prng.js';

export const RATE = 48_000;

/** Writes 16-bit PCM mono (header from the recorder's own codec). */
export function writeWav(file: string, samples: Float32Array, rate = RATE): void {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), i * 2);
  const header = serializeWavHeader({ sampleRate: rate, channels: 1, bitsPerSample: 16 }, data.length);
  writeFileSync(file, Buffer.concat([header, data]));
}


/**
 * Speech-like test signal: overlapping tone bursts (random pitch 150–2500 Hz,
 * 40–160 ms, raised-cosine envelopes, harmonics) over a soft noise floor. It
 * never repeats within `seconds`, so a correlation peak is unambiguous.
 */
export function burstSignal(seconds: number, seed = 7): Float32Array {
  const n = Math.round(seconds * RATE);
  const out = new Float32Array(n);
  const rand = prng(seed);
  let t = 0;
  while (t < n) {
    const len = Math.round((0.04 + rand() * 0.12) * RATE);
    const f0 = 150 + rand() * 2350;
    const amp = 0.15 + rand() * 0.25;
    for (let i = 0; i < len && t + i < n; i++) {
      const env = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / len);
      const ph = (2 * Math.PI * f0 * i) / RATE;
      out[t + i]! += amp * env * (Math.sin(ph) + 0.4 * Math.sin(2 * ph) + 0.2 * Math.sin(3 * ph));
    }
    t += Math.round(len * (0.5 + rand() * 0.8));
  }
  for (let i = 0; i < n; i++) out[i]! += (rand() * 2 - 1) * 0.01;
  return out;
}

/**
 * Periodic beeps for latency measurement: a 1 kHz, 30 ms beep every `periodMs`,
 * silence between. Returns the signal and the beep onsets (seconds).
 */
export function beepSignal(seconds: number, periodMs = 500): { samples: Float32Array; onsets: number[] } {
  const n = Math.round(seconds * RATE);
  const samples = new Float32Array(n);
  const onsets: number[] = [];
  const period = Math.round((periodMs / 1000) * RATE);
  const beep = Math.round(0.03 * RATE);
  for (let start = Math.round(0.1 * RATE); start + beep < n; start += period) {
    onsets.push(start / RATE);
    for (let i = 0; i < beep; i++) samples[start + i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE);
  }
  return { samples, onsets };
}

export function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / Math.max(1, x.length));
}

function decimate(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < factor; k++) s += x[i * factor + k]!;
    out[i] = s / factor;
  }
  return out;
}

/** Normalized correlation of `a` with the looping `src` at `lag` (a[i] ~ src[(i + lag) mod N]). */
function corrAt(a: Float32Array, src: Float32Array, lag: number): number {
  const n = src.length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const b = src[(i + lag) % n]!;
    ab += a[i]! * b;
    aa += a[i]! * a[i]!;
    bb += b * b;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * Best normalized cross-correlation between `received` and the looping source
 * (the fake microphone loops its file, so the phase is unknown): coarse search
 * at 8 kHz over every lag, refined at 48 kHz around the peak.
 */
export function loopCorrelation(received: Float32Array, source: Float32Array): { corr: number; lag: number } {
  const f = 6;
  const rd = decimate(received, f);
  const sd = decimate(source, f);
  let best = { corr: -Infinity, lag: 0 };
  for (let lag = 0; lag < sd.length; lag++) {
    const c = corrAt(rd, sd, lag);
    if (c > best.corr) best = { corr: c, lag };
  }
  let fine = { corr: -Infinity, lag: 0 };
  for (let d = -2 * f; d <= 2 * f; d++) {
    const lag = (((best.lag * f + d) % source.length) + source.length) % source.length;
    const c = corrAt(received, source, lag);
    if (c > fine.corr) fine = { corr: c, lag };
  }
  return fine;
}

/**
 * How well `received` matches the looping source, robust to the listener's jitter
 * buffer stretching time (WebRTC's NetEq speeds up or slows down playout by a few
 * samples at a time, which breaks one long alignment): the received audio is cut
 * into `segmentMs` pieces, each aligned on its own; returns the median of their
 * best correlations (silent pieces are skipped).
 */
export function segmentCorrelation(received: Float32Array, source: Float32Array, segmentMs = 100): number {
  const len = Math.round((segmentMs / 1000) * RATE);
  const floor = 0.1 * rms(received);
  const corrs: number[] = [];
  for (let start = 0; start + len <= received.length; start += len) {
    const seg = received.subarray(start, start + len);
    if (rms(seg) < floor) continue;
    corrs.push(loopCorrelation(seg, source).corr);
  }
  if (corrs.length === 0) return 0;
  corrs.sort((a, b) => a - b);
  return corrs[Math.floor(corrs.length / 2)]!;
}
