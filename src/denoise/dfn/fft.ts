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
    for (let s = 0; s < this.radices.length; s++) {
      const r = this.radices[s]!;
      const tw = this.twiddles[s]!;
      const stride = n / r;
      if (r === 2) radix2(xRe, xIm, yRe, yIm, tw, ns, stride, sgn);
      else if (r === 3) radix3(xRe, xIm, yRe, yIm, tw, ns, stride, sgn);
      else if (r === 4) radix4(xRe, xIm, yRe, yIm, tw, ns, stride, sgn);
      else radix5(xRe, xIm, yRe, yIm, tw, ns, stride, sgn);
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

// Stockham stages: input index j + q·stride (j = g·ns + k), twiddle w^(q·k) from tw[(k·r + q)·2],
// output index g·ns·r + k + q·ns. Each radix has its own butterfly (no modulo, no inner loops).

function radix2(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number, sgn: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 2;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = (k * 2 + 1) * 2;
      const c = tw[t]!;
      const d = sgn * tw[t + 1]!;
      const ar = xr[j]!;
      const ai = xi[j]!;
      const br0 = xr[j + stride]!;
      const bi0 = xi[j + stride]!;
      const br = br0 * c - bi0 * d;
      const bi = br0 * d + bi0 * c;
      const o = out + k;
      yr[o] = ar + br;
      yi[o] = ai + bi;
      yr[o + ns] = ar - br;
      yi[o + ns] = ai - bi;
    }
  }
}

function radix4(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number, sgn: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 4;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 8;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t + 2]!;
      let d = sgn * tw[t + 3]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 4]!;
      d = sgn * tw[t + 5]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      a = xr[j + 3 * stride]!;
      b = xi[j + 3 * stride]!;
      c = tw[t + 6]!;
      d = sgn * tw[t + 7]!;
      const v3r = a * c - b * d;
      const v3i = a * d + b * c;
      const s0r = v0r + v2r;
      const s0i = v0i + v2i;
      const d0r = v0r - v2r;
      const d0i = v0i - v2i;
      const s1r = v1r + v3r;
      const s1i = v1i + v3i;
      // (v1 - v3) · (-i·sgn): forward multiplies by -i, inverse by +i
      const d1r = sgn * (v1i - v3i);
      const d1i = -sgn * (v1r - v3r);
      const o = out + k;
      yr[o] = s0r + s1r;
      yi[o] = s0i + s1i;
      yr[o + ns] = d0r + d1r;
      yi[o + ns] = d0i + d1i;
      yr[o + 2 * ns] = s0r - s1r;
      yi[o + 2 * ns] = s0i - s1i;
      yr[o + 3 * ns] = d0r - d1r;
      yi[o + 3 * ns] = d0i - d1i;
    }
  }
}

const C3 = -0.5; // cos(2π/3)
const S3 = Math.sqrt(3) / 2; // sin(2π/3)

function radix3(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number, sgn: number): void {
  const s3 = -sgn * S3; // forward angle is -2π/3
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 3;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 6;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t + 2]!;
      let d = sgn * tw[t + 3]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 4]!;
      d = sgn * tw[t + 5]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      const sr = v1r + v2r;
      const si = v1i + v2i;
      const dr = v1r - v2r;
      const di = v1i - v2i;
      const mr = v0r + C3 * sr;
      const mi = v0i + C3 * si;
      // ±i·s3·(v1 - v2)
      const rr = -s3 * di;
      const ri = s3 * dr;
      const o = out + k;
      yr[o] = v0r + sr;
      yi[o] = v0i + si;
      yr[o + ns] = mr + rr;
      yi[o + ns] = mi + ri;
      yr[o + 2 * ns] = mr - rr;
      yi[o + 2 * ns] = mi - ri;
    }
  }
}

const C51 = Math.cos((2 * Math.PI) / 5);
const C52 = Math.cos((4 * Math.PI) / 5);
const S51 = Math.sin((2 * Math.PI) / 5);
const S52 = Math.sin((4 * Math.PI) / 5);

function radix5(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number, sgn: number): void {
  const s1 = -sgn * S51; // forward angles are negative
  const s2 = -sgn * S52;
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 5;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 10;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t + 2]!;
      let d = sgn * tw[t + 3]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 4]!;
      d = sgn * tw[t + 5]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      a = xr[j + 3 * stride]!;
      b = xi[j + 3 * stride]!;
      c = tw[t + 6]!;
      d = sgn * tw[t + 7]!;
      const v3r = a * c - b * d;
      const v3i = a * d + b * c;
      a = xr[j + 4 * stride]!;
      b = xi[j + 4 * stride]!;
      c = tw[t + 8]!;
      d = sgn * tw[t + 9]!;
      const v4r = a * c - b * d;
      const v4i = a * d + b * c;
      const s14r = v1r + v4r;
      const s14i = v1i + v4i;
      const d14r = v1r - v4r;
      const d14i = v1i - v4i;
      const s23r = v2r + v3r;
      const s23i = v2i + v3i;
      const d23r = v2r - v3r;
      const d23i = v2i - v3i;
      const m1r = v0r + C51 * s14r + C52 * s23r;
      const m1i = v0i + C51 * s14i + C52 * s23i;
      const m2r = v0r + C52 * s14r + C51 * s23r;
      const m2i = v0i + C52 * s14i + C51 * s23i;
      // i·(s1·d14 + s2·d23) and i·(s2·d14 - s1·d23)
      const n1r = -(s1 * d14i + s2 * d23i);
      const n1i = s1 * d14r + s2 * d23r;
      const n2r = -(s2 * d14i - s1 * d23i);
      const n2i = s2 * d14r - s1 * d23r;
      const o = out + k;
      yr[o] = v0r + s14r + s23r;
      yi[o] = v0i + s14i + s23i;
      yr[o + ns] = m1r + n1r;
      yi[o + ns] = m1i + n1i;
      yr[o + 2 * ns] = m2r + n2r;
      yi[o + 2 * ns] = m2i + n2i;
      yr[o + 3 * ns] = m2r - n2r;
      yi[o + 3 * ns] = m2i - n2i;
      yr[o + 4 * ns] = m1r - n1r;
      yi[o + 4 * ns] = m1i - n1i;
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
