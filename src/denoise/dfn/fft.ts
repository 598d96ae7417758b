// Real FFT for the STFT: a size-N real transform computed with one size-N/2 complex
// Stockham FFT (radices 2, 3, 4, 5: N = 960 gives 480 = 4·4·2·3·5). Scaling matches realfft,
// which libDF uses: forward and inverse are both unnormalized (inverse(forward(x)) = N·x), and
// the inverse ignores the imaginary parts of the DC and Nyquist bins.

/** Unnormalized complex FFT of a fixed size; buffers are reused, nothing is allocated per call. */
class ComplexFft {
  private readonly radices: number[] = [];
  /** Per stage: twiddles for k in [0, Ns) and r in [0, R), interleaved cos/sin of the forward sign. */
  private readonly twiddles: Float64Array[] = [];
  private readonly bufRe: Float64Array;
  private readonly bufIm: Float64Array;
  private readonly vRe = new Float64Array(5);
  private readonly vIm = new Float64Array(5);
  private readonly rootCos: Float64Array[] = [];
  private readonly rootSin: Float64Array[] = [];

  constructor(readonly n: number) {
    let rest = n;
    for (const r of [4, 2, 3, 5]) {
      while (rest % r === 0) {
        this.radices.push(r);
        rest /= r;
      }
    }
    if (rest !== 1) throw new Error(`FFT size ${n} has a prime factor other than 2, 3, 5`);
    let ns = 1;
    for (const r of this.radices) {
      const tw = new Float64Array(ns * r * 2);
      for (let k = 0; k < ns; k++) {
        for (let q = 0; q < r; q++) {
          const a = (-2 * Math.PI * k * q) / (ns * r);
          tw[(k * r + q) * 2] = Math.cos(a);
          tw[(k * r + q) * 2 + 1] = Math.sin(a);
        }
      }
      this.twiddles.push(tw);
      ns *= r;
    }
    for (let r = 0; r <= 5; r++) {
      const c = new Float64Array(Math.max(r, 1));
      const s = new Float64Array(Math.max(r, 1));
      for (let m = 0; m < r; m++) {
        c[m] = Math.cos((-2 * Math.PI * m) / r);
        s[m] = Math.sin((-2 * Math.PI * m) / r);
      }
      this.rootCos.push(c);
      this.rootSin.push(s);
    }
    this.bufRe = new Float64Array(n);
    this.bufIm = new Float64Array(n);
  }

  /** In-place transform of (re, im); sign -1 forward, +1 inverse (unnormalized). */
  transform(re: Float64Array, im: Float64Array, inverse: boolean): void {
    const n = this.n;
    const sgn = inverse ? -1 : 1; // flips the sine of every precomputed (forward) angle
    let xRe = re;
    let xIm = im;
    let yRe = this.bufRe;
    let yIm = this.bufIm;
    let ns = 1;
    const vRe = this.vRe;
    const vIm = this.vIm;
    for (let s = 0; s < this.radices.length; s++) {
      const r = this.radices[s]!;
      const tw = this.twiddles[s]!;
      const stride = n / r;
      const rc = this.rootCos[r]!;
      const rs = this.rootSin[r]!;
      for (let j = 0; j < stride; j++) {
        const k = j % ns;
        for (let q = 0; q < r; q++) {
          const a = xRe[j + q * stride]!;
          const b = xIm[j + q * stride]!;
          const c = tw[(k * r + q) * 2]!;
          const d = sgn * tw[(k * r + q) * 2 + 1]!;
          vRe[q] = a * c - b * d;
          vIm[q] = a * d + b * c;
        }
        const base = (j - k) * r + k;
        if (r === 2) {
          yRe[base] = vRe[0]! + vRe[1]!;
          yIm[base] = vIm[0]! + vIm[1]!;
          yRe[base + ns] = vRe[0]! - vRe[1]!;
          yIm[base + ns] = vIm[0]! - vIm[1]!;
        } else if (r === 4) {
          const s0r = vRe[0]! + vRe[2]!;
          const s0i = vIm[0]! + vIm[2]!;
          const d0r = vRe[0]! - vRe[2]!;
          const d0i = vIm[0]! - vIm[2]!;
          const s1r = vRe[1]! + vRe[3]!;
          const s1i = vIm[1]! + vIm[3]!;
          // (v1 - v3) · (-i·sgn): forward multiplies by -i, inverse by +i
          const d1r = sgn * (vIm[1]! - vIm[3]!);
          const d1i = -sgn * (vRe[1]! - vRe[3]!);
          yRe[base] = s0r + s1r;
          yIm[base] = s0i + s1i;
          yRe[base + ns] = d0r + d1r;
          yIm[base + ns] = d0i + d1i;
          yRe[base + 2 * ns] = s0r - s1r;
          yIm[base + 2 * ns] = s0i - s1i;
          yRe[base + 3 * ns] = d0r - d1r;
          yIm[base + 3 * ns] = d0i - d1i;
        } else {
          for (let q = 0; q < r; q++) {
            let accRe = 0;
            let accIm = 0;
            for (let m = 0; m < r; m++) {
              const idx = (m * q) % r;
              const c = rc[idx]!;
              const d = sgn * rs[idx]!;
              accRe += vRe[m]! * c - vIm[m]! * d;
              accIm += vRe[m]! * d + vIm[m]! * c;
            }
            yRe[base + q * ns] = accRe;
            yIm[base + q * ns] = accIm;
          }
        }
      }
      const tRe = xRe;
      const tIm = xIm;
      xRe = yRe;
      xIm = yIm;
      yRe = tRe;
      yIm = tIm;
      ns *= r;
    }
    if (xRe !== re) {
      re.set(xRe);
      im.set(xIm);
    }
  }
}

/** Real FFT of even size N; spectra are interleaved [re0, im0, re1, im1, …] of N/2 + 1 bins. */
export class RealFft {
  private readonly half: ComplexFft;
  private readonly zRe: Float64Array;
  private readonly zIm: Float64Array;
  private readonly wCos: Float64Array;
  private readonly wSin: Float64Array;

  constructor(readonly size: number) {
    if (size % 2 !== 0) throw new Error(`real FFT size must be even, got ${size}`);
    const m = size / 2;
    this.half = new ComplexFft(m);
    this.zRe = new Float64Array(m);
    this.zIm = new Float64Array(m);
    this.wCos = new Float64Array(m + 1);
    this.wSin = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.wCos[k] = Math.cos((-2 * Math.PI * k) / size);
      this.wSin[k] = Math.sin((-2 * Math.PI * k) / size);
    }
  }

  /** x: N real samples → spec: 2·(N/2 + 1) interleaved values. */
  forward(x: ArrayLike<number>, spec: Float32Array | Float64Array): void {
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    for (let i = 0; i < m; i++) {
      zRe[i] = x[2 * i]!;
      zIm[i] = x[2 * i + 1]!;
    }
    this.half.transform(zRe, zIm, false);
    for (let k = 0; k <= m; k++) {
      const a = k % m;
      const b = (m - k) % m;
      const zr = zRe[a]!;
      const zi = zIm[a]!;
      const cr = zRe[b]!;
      const ci = -zIm[b]!;
      const er = 0.5 * (zr + cr);
      const ei = 0.5 * (zi + ci);
      // O = (Z - conj Z') / (2i)
      const or = 0.5 * (zi - ci);
      const oi = -0.5 * (zr - cr);
      const wc = this.wCos[k]!;
      const ws = this.wSin[k]!;
      spec[2 * k] = er + or * wc - oi * ws;
      spec[2 * k + 1] = ei + or * ws + oi * wc;
    }
  }

  /** spec: 2·(N/2 + 1) interleaved values → x: N real samples, scaled by N (unnormalized). */
  inverse(spec: ArrayLike<number>, x: Float32Array | Float64Array): void {
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    for (let k = 0; k < m; k++) {
      const ar = spec[2 * k]!;
      const ai = k === 0 ? 0 : spec[2 * k + 1]!;
      const br = spec[2 * (m - k)]!;
      const bi = m - k === m ? 0 : -spec[2 * (m - k) + 1]!; // conj(X[m-k]); Nyquist imag ignored
      const er = ar + br;
      const ei = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      // O2 = (A - B) · e^{+2πik/N}
      const wc = this.wCos[k]!;
      const ws = -this.wSin[k]!;
      const or = dr * wc - di * ws;
      const oi = dr * ws + di * wc;
      zRe[k] = er - oi;
      zIm[k] = ei + or;
    }
    this.half.transform(zRe, zIm, true);
    for (let i = 0; i < m; i++) {
      x[2 * i] = zRe[i]!;
      x[2 * i + 1] = zIm[i]!;
    }
  }
}
