// Real FFT for the STFT: a size-N real transform computed with one size-N/2 complex
// Stockham FFT (radices 2, 3, 4, 5: N = 960 gives 480 = 4·4·2·3·5). Scaling matches realfft,
// which libDF uses: forward and inverse are both unnormalized (inverse(forward(x)) = N·x), and
// the inverse ignores the imaginary parts of the DC and Nyquist bins.
// Speed (two of these per stream and hop): only the forward complex transform exists (the inverse
// conjugates around it, folded into the real-FFT packing), the first stage has no twiddles, and
// the butterflies have their signs built in.

/** Unnormalized forward complex FFT of a fixed size; nothing is allocated per call. */
class ComplexFft {
  private readonly radices: number[] = [];
  /** Per stage: for k in [0, ns), the twiddles w^(q·k) for q in [1, r), interleaved cos/sin. */
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
      const tw = new Float64Array(ns * (r - 1) * 2);
      for (let k = 0; k < ns; k++) {
        for (let q = 1; q < r; q++) {
          const a = (-2 * Math.PI * k * q) / (ns * r);
          tw[(k * (r - 1) + q - 1) * 2] = Math.cos(a);
          tw[(k * (r - 1) + q - 1) * 2 + 1] = Math.sin(a);
        }
      }
      this.twiddles.push(tw);
      ns *= r;
    }
    this.bufRe = new Float64Array(n);
    this.bufIm = new Float64Array(n);
  }

  /** In-place forward transform of (re, im). */
  forward(re: Float64Array, im: Float64Array): void {
    if (this.n === 480) {
      this.forward480(re, im);
      return;
    }
    const n = this.n;
    let xRe = re;
    let xIm = im;
    let yRe = this.bufRe;
    let yIm = this.bufIm;
    let ns = 1;
    for (let s = 0; s < this.radices.length; s++) {
      const r = this.radices[s]!;
      const tw = this.twiddles[s]!;
      const stride = n / r;
      if (ns === 1) {
        if (r === 4) radix4First(xRe, xIm, yRe, yIm, stride);
        else generic(r, xRe, xIm, yRe, yIm, tw, ns, stride);
      } else if (r === 2) radix2(xRe, xIm, yRe, yIm, tw, ns, stride);
      else if (r === 3) radix3(xRe, xIm, yRe, yIm, tw, ns, stride);
      else if (r === 4) radix4(xRe, xIm, yRe, yIm, tw, ns, stride);
      else radix5(xRe, xIm, yRe, yIm, tw, ns, stride);
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

  /**
   * The STFT's size (960 / 2) as a fixed sequence: with ns and stride constant at each call site
   * V8 inlines and strength-reduces every stage; measured ~20 % faster than the loop above.
   */
  private forward480(re: Float64Array, im: Float64Array): void {
    const tw = this.twiddles;
    const br = this.bufRe;
    const bi = this.bufIm;
    radix4First(re, im, br, bi, 120);
    radix4(br, bi, re, im, tw[1]!, 4, 120);
    radix2(re, im, br, bi, tw[2]!, 16, 240);
    radix3(br, bi, re, im, tw[3]!, 32, 160);
    radix5(re, im, br, bi, tw[4]!, 96, 96);
    re.set(br);
    im.set(bi);
  }
}

function generic(r: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number): void {
  if (r === 2) radix2(xr, xi, yr, yi, tw, ns, stride);
  else if (r === 3) radix3(xr, xi, yr, yi, tw, ns, stride);
  else if (r === 4) radix4(xr, xi, yr, yi, tw, ns, stride);
  else radix5(xr, xi, yr, yi, tw, ns, stride);
}

// Stockham stages: input index j + q·stride (j = g·ns + k), twiddle w^(q·k),
// output index g·ns·r + k + q·ns. Each radix has its own butterfly (no modulo, no inner loops).
// The butterflies repeat the same few lines (load, twiddle multiply, add/subtract) on purpose:
// written out, every value stays in a register; a shared helper would need an out-array or an
// object per complex product on the hottest loop of the denoiser.

/** The first radix-4 stage (ns = 1): every twiddle is 1. */
function radix4First(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, stride: number): void {
  for (let j = 0; j < stride; j++) {
    const v0r = xr[j]!;
    const v0i = xi[j]!;
    const v1r = xr[j + stride]!;
    const v1i = xi[j + stride]!;
    const v2r = xr[j + 2 * stride]!;
    const v2i = xi[j + 2 * stride]!;
    const v3r = xr[j + 3 * stride]!;
    const v3i = xi[j + 3 * stride]!;
    const s0r = v0r + v2r;
    const s0i = v0i + v2i;
    const d0r = v0r - v2r;
    const d0i = v0i - v2i;
    const s1r = v1r + v3r;
    const s1i = v1i + v3i;
    // (v1 - v3) · (-i)
    const d1r = v1i - v3i;
    const d1i = v3r - v1r;
    const o = j * 4;
    yr[o] = s0r + s1r;
    yi[o] = s0i + s1i;
    yr[o + 1] = d0r + d1r;
    yi[o + 1] = d0i + d1i;
    yr[o + 2] = s0r - s1r;
    yi[o + 2] = s0i - s1i;
    yr[o + 3] = d0r - d1r;
    yi[o + 3] = d0i - d1i;
  }
}

function radix2(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 2;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 2;
      const c = tw[t]!;
      const d = tw[t + 1]!;
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

function radix4(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 4;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 6;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t]!;
      let d = tw[t + 1]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 2]!;
      d = tw[t + 3]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      a = xr[j + 3 * stride]!;
      b = xi[j + 3 * stride]!;
      c = tw[t + 4]!;
      d = tw[t + 5]!;
      const v3r = a * c - b * d;
      const v3i = a * d + b * c;
      const s0r = v0r + v2r;
      const s0i = v0i + v2i;
      const d0r = v0r - v2r;
      const d0i = v0i - v2i;
      const s1r = v1r + v3r;
      const s1i = v1i + v3i;
      // (v1 - v3) · (-i)
      const d1r = v1i - v3i;
      const d1i = v3r - v1r;
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

const S3 = Math.sqrt(3) / 2; // sin(2π/3)

function radix3(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 3;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 4;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t]!;
      let d = tw[t + 1]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 2]!;
      d = tw[t + 3]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      const sr = v1r + v2r;
      const si = v1i + v2i;
      const mr = v0r - 0.5 * sr;
      const mi = v0i - 0.5 * si;
      // -i·sin(2π/3)·(v1 - v2)
      const rr = S3 * (v1i - v2i);
      const ri = -S3 * (v1r - v2r);
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

function radix5(xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array, tw: Float64Array, ns: number, stride: number): void {
  for (let j0 = 0; j0 < stride; j0 += ns) {
    const out = j0 * 5;
    for (let k = 0; k < ns; k++) {
      const j = j0 + k;
      const t = k * 8;
      const v0r = xr[j]!;
      const v0i = xi[j]!;
      let a = xr[j + stride]!;
      let b = xi[j + stride]!;
      let c = tw[t]!;
      let d = tw[t + 1]!;
      const v1r = a * c - b * d;
      const v1i = a * d + b * c;
      a = xr[j + 2 * stride]!;
      b = xi[j + 2 * stride]!;
      c = tw[t + 2]!;
      d = tw[t + 3]!;
      const v2r = a * c - b * d;
      const v2i = a * d + b * c;
      a = xr[j + 3 * stride]!;
      b = xi[j + 3 * stride]!;
      c = tw[t + 4]!;
      d = tw[t + 5]!;
      const v3r = a * c - b * d;
      const v3i = a * d + b * c;
      a = xr[j + 4 * stride]!;
      b = xi[j + 4 * stride]!;
      c = tw[t + 6]!;
      d = tw[t + 7]!;
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
      // -i·(S51·d14 + S52·d23) and -i·(S52·d14 - S51·d23) (forward angles are negative)
      const n1r = S51 * d14i + S52 * d23i;
      const n1i = -(S51 * d14r + S52 * d23r);
      const n2r = S52 * d14i - S51 * d23i;
      const n2i = -(S52 * d14r - S51 * d23r);
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
  /**
   * The half-size complex signal z[j] = x[2j] + i·x[2j+1]. forwardPacked() reads it and
   * inverseToPacked() leaves its result here (conjugated), so the STFT can window straight into
   * and out of it instead of through a separate N-sample buffer.
   */
  readonly zRe: Float64Array;
  readonly zIm: Float64Array;
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

  /** x: N real samples → spec: 2·(N/2 + 1) interleaved values, each multiplied by `scale`. */
  forward(x: ArrayLike<number>, spec: Float32Array | Float64Array, scale = 1): void {
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    for (let i = 0; i < m; i++) {
      zRe[i] = x[2 * i]!;
      zIm[i] = x[2 * i + 1]!;
    }
    this.forwardPacked(spec, scale);
  }

  /** forward() of the signal the caller packed into zRe/zIm (which it overwrites). */
  forwardPacked(spec: Float32Array | Float64Array, scale = 1): void {
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    this.half.forward(zRe, zIm);
    // DC and Nyquist: E = Re z0, O = Im z0.
    const z0r = zRe[0]!;
    const z0i = zIm[0]!;
    spec[0] = (z0r + z0i) * scale;
    spec[1] = 0;
    spec[2 * m] = (z0r - z0i) * scale;
    spec[2 * m + 1] = 0;
    const wCos = this.wCos;
    const wSin = this.wSin;
    const h = 0.5 * scale;
    // Bins k and j = m - k share their inputs: with E, O of bin k, X[k] = E + w·O and
    // X[j] = conj(E - w·O) (E and O of bin j are conj E and conj O, and w_j = -conj w_k).
    let k = 1;
    let j = m - 1;
    for (; k <= j; k++, j--) {
      const zr = zRe[k]!;
      const zi = zIm[k]!;
      const cr = zRe[j]!;
      const ci = -zIm[j]!;
      // E = (Z + conj Z') / 2, O = (Z - conj Z') / (2i) (both doubled here, halved by h below)
      const er = zr + cr;
      const ei = zi + ci;
      const or = zi - ci;
      const oi = cr - zr;
      const wc = wCos[k]!;
      const ws = wSin[k]!;
      const tr = or * wc - oi * ws;
      const ti = or * ws + oi * wc;
      // For k = j (m even) the second pair of writes lands on the same bin with the same value.
      spec[2 * j] = (er - tr) * h;
      spec[2 * j + 1] = (ti - ei) * h;
      spec[2 * k] = (er + tr) * h;
      spec[2 * k + 1] = (ei + ti) * h;
    }
  }

  /** spec: 2·(N/2 + 1) interleaved values → x: N real samples, scaled by N (unnormalized). */
  inverse(spec: ArrayLike<number>, x: Float32Array | Float64Array): void {
    this.inverseToPacked(spec);
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    for (let i = 0; i < m; i++) {
      x[2 * i] = zRe[i]!;
      x[2 * i + 1] = -zIm[i]!;
    }
  }

  /** inverse() that leaves x in zRe/zIm, conjugated: x[2j] = zRe[j], x[2j+1] = -zIm[j]. */
  inverseToPacked(spec: ArrayLike<number>): void {
    const m = this.size / 2;
    const zRe = this.zRe;
    const zIm = this.zIm;
    const wCos = this.wCos;
    const wSin = this.wSin;
    // z[k] = E + i·O with E = X[k] + conj X[m-k], O = (X[k] - conj X[m-k])·e^{+2πik/N}; the
    // inverse complex FFT is conj(FFT(conj z)), so z is stored conjugated here and x un-conjugated below.
    {
      // k = 0 pairs DC with Nyquist; their imaginary parts are ignored.
      const ar = spec[0]!;
      const br = spec[2 * m]!;
      zRe[0] = ar + br;
      zIm[0] = -(ar - br);
    }
    // z[k] and z[m - k] from the same two bins: for j = m - k, E_j = conj E_k and O_j = conj O_k.
    for (let k = 1, j = m - 1; k <= j; k++, j--) {
      const ar = spec[2 * k]!;
      const ai = spec[2 * k + 1]!;
      const br = spec[2 * j]!;
      const bi = -spec[2 * j + 1]!;
      const er = ar + br;
      const ei = ai + bi;
      const dr = ar - br;
      const di = ai - bi;
      const wc = wCos[k]!;
      const ws = -wSin[k]!;
      const or = dr * wc - di * ws;
      const oi = dr * ws + di * wc;
      // For k = j (m even) the first pair of writes is the same value as the second.
      zRe[j] = er + oi;
      zIm[j] = ei - or;
      zRe[k] = er - oi;
      zIm[k] = -(ei + or);
    }
    this.half.forward(zRe, zIm);
  }
}
