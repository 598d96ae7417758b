// Signal comparison for media tests: where does `x` best line up with `ref`,
// and how similar are they there (normalized cross-correlation, FFT-based so
// seconds of 48 kHz audio compare in milliseconds).
import { zeroPhaseButterworth } from '../support/zero-phase-filter.js';

export { prng } from '../support/prng.js';

function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
  if (inverse) for (let i = 0; i < n; i++) (re[i]! /= n), (im[i]! /= n);
}

export interface Alignment {
  /** x[i + lag] ≈ ref[i]. */
  lag: number;
  /** Normalized correlation over the overlap at that lag (1 = identical up to gain). */
  corr: number;
}

/** Best lag in [minLag, maxLag] by cross-correlation, then the normalized correlation there. */
export function align(ref: Float32Array, x: Float32Array, minLag: number, maxLag: number): Alignment {
  let n = 1;
  while (n < ref.length + x.length) n <<= 1;
  const ar = new Float64Array(n);
  const ai = new Float64Array(n);
  const br = new Float64Array(n);
  const bi = new Float64Array(n);
  ar.set(x);
  br.set(ref);
  fft(ar, ai, false);
  fft(br, bi, false);
  // X · conj(R) → c[lag] = Σ x[i+lag]·ref[i]
  for (let i = 0; i < n; i++) {
    const r = ar[i]! * br[i]! + ai[i]! * bi[i]!;
    const im = ai[i]! * br[i]! - ar[i]! * bi[i]!;
    ar[i] = r;
    ai[i] = im;
  }
  fft(ar, ai, true);
  let best = minLag;
  let bestVal = -Infinity;
  for (let lag = minLag; lag <= maxLag; lag++) {
    const v = ar[(lag + n) % n]!;
    if (v > bestVal) {
      bestVal = v;
      best = lag;
    }
  }
  return { lag: best, corr: correlationAt(ref, x, best) };
}

export function correlationAt(ref: Float32Array, x: Float32Array, lag: number, from = 0, to = ref.length): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = Math.max(from, -lag); i < Math.min(to, x.length - lag); i++) {
    const a = ref[i]!;
    const b = x[i + lag]!;
    xy += a * b;
    xx += a * a;
    yy += b * b;
  }
  return xx > 0 && yy > 0 ? xy / Math.sqrt(xx * yy) : 0;
}

export function energy(x: Float32Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return e;
}


/**
 * For outputs whose timeline was stretched or shrunk (jitter buffer expanding or dropping
 * frames): aligns each window of ref separately within ±slack of the previous lag and
 * returns the per-window correlations (windows of near-silence in ref are skipped).
 */
export function windowedCorrelations(ref: Float32Array, x: Float32Array, window: number, firstLag: number, slack: number): number[] {
  const result: number[] = [];
  let lag = firstLag;
  const refRms = Math.sqrt(energy(ref) / ref.length);
  for (let i = 0; i + window <= ref.length; i += window) {
    const part = ref.subarray(i, i + window);
    if (Math.sqrt(energy(part) / window) < refRms * 0.1) continue;
    const from = Math.max(0, i + lag - slack);
    const to = Math.min(x.length, i + lag + window + slack);
    if (to - from < window) break;
    const a = align(part, x.subarray(from, to), 0, to - from - window);
    lag = from + a.lag - i;
    result.push(a.corr);
  }
  return result;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

/**
 * Zero-phase low-pass (RBJ biquad run forward then backward). Opus codes noise and high
 * frequencies perceptually, not as waveforms, so waveform comparisons of coded audio are
 * made below a few kHz where it keeps the waveform.
 */
export function lowpass(x: Float32Array, cutoffHz: number, sampleRate = 48_000): Float32Array {
  return zeroPhaseButterworth(x, 'lowpass', cutoffHz, sampleRate);
}
