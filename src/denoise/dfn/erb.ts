// ERB filterbank of DeepFilterNet (libDF erb_fb, compute_band_corr, apply_interp_band_gain):
// rectangular bands equally spaced on the ERB scale, each at least min_nb_freqs bins wide.
// libDF computes in f32; Math.fround keeps the band edges identical to it.
const f32 = Math.fround;

function freq2erb(hz: number): number {
  return f32(9.265 * Math.log1p(f32(hz / f32(24.7 * 9.265))));
}
function erb2freq(nErb: number): number {
  return f32(f32(24.7 * 9.265) * f32(Math.exp(f32(nErb / 9.265)) - 1));
}

/** Number of FFT bins in each ERB band; they sum to fft_size / 2 + 1. */
export function erbBandWidths(sr: number, fftSize: number, nbBands: number, minNbFreqs: number): Int32Array {
  const nyq = Math.floor(sr / 2);
  const freqWidth = f32(sr / fftSize);
  const erbLow = freq2erb(0);
  const erbHigh = freq2erb(nyq);
  const widths = new Int32Array(nbBands);
  const step = f32((erbHigh - erbLow) / nbBands);
  let prevFreq = 0;
  let freqOver = 0;
  for (let i = 1; i <= nbBands; i++) {
    const f = erb2freq(f32(erbLow + f32(i * step)));
    const fb = Math.round(f32(f / freqWidth));
    let nbFreqs = fb - prevFreq - freqOver;
    if (nbFreqs < minNbFreqs) {
      freqOver = minNbFreqs - nbFreqs;
      nbFreqs = minNbFreqs;
    } else {
      freqOver = 0;
    }
    widths[i - 1] = nbFreqs;
    prevFreq = fb;
  }
  widths[nbBands - 1]! += 1; // the Nyquist bin
  const total = widths.reduce((a, b) => a + b, 0);
  const tooLarge = total - (fftSize / 2 + 1);
  if (tooLarge > 0) widths[nbBands - 1]! -= tooLarge;
  return widths;
}

/** Mean power per band of an interleaved complex spectrum. */
export function bandPower(spec: ArrayLike<number>, widths: Int32Array, out: Float32Array, outOffset = 0): void {
  let bin = 0;
  for (let b = 0; b < widths.length; b++) {
    const w = widths[b]!;
    const k = 1 / w;
    let acc = 0;
    for (let j = 0; j < w; j++, bin++) {
      const re = spec[2 * bin]!;
      const im = spec[2 * bin + 1]!;
      acc += (re * re + im * im) * k;
    }
    out[outOffset + b] = acc;
  }
}

/** Multiplies every bin of an interleaved complex spectrum by its band's gain. */
export function applyBandGains(spec: Float32Array, gains: ArrayLike<number>, widths: Int32Array, gainOffset = 0): void {
  let bin = 0;
  for (let b = 0; b < widths.length; b++) {
    const g = gains[gainOffset + b]!;
    const w = widths[b]!;
    for (let j = 0; j < w; j++, bin++) {
      spec[2 * bin] = spec[2 * bin]! * g;
      spec[2 * bin + 1] = spec[2 * bin + 1]! * g;
    }
  }
}

/** dst = src with every bin multiplied by its band's gain (applyBandGains fused with the copy). */
export function bandGainsInto(src: Float32Array, dst: Float32Array, gains: ArrayLike<number>, widths: Int32Array, gainOffset = 0): void {
  let bin = 0;
  for (let b = 0; b < widths.length; b++) {
    const g = gains[gainOffset + b]!;
    const end = bin + widths[b]!;
    for (; bin < end; bin++) {
      dst[2 * bin] = src[2 * bin]! * g;
      dst[2 * bin + 1] = src[2 * bin + 1]! * g;
    }
  }
}
