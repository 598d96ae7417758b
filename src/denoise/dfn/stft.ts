// Vorbis-window STFT with 50 % overlap, as libDF's frame_analysis / frame_synthesis:
// the analysis scales by wnorm = 2·hop / fft_size², the synthesis is an unnormalized inverse FFT,
// windowed and overlap-added. Analysis then synthesis reproduces the input delayed by
// fft_size - hop samples (one hop).
import { RealFft } from './fft.js';

/** sin(π/2 · sin²(π (n + ½) / N)): the Vorbis power-complementary window (libDF DFState::new). */
export function vorbisWindow(fftSize: number): Float32Array {
  const w = new Float32Array(fftSize);
  const half = fftSize / 2;
  for (let i = 0; i < fftSize; i++) {
    const s = Math.sin((0.5 * Math.PI * (i + 0.5)) / half);
    w[i] = Math.sin(0.5 * Math.PI * s * s);
  }
  return w;
}

/** Per-stream analysis: one hop of samples in → one spectrum (interleaved complex, fft/2 + 1 bins) out. */
export class StftAnalysis {
  readonly window: Float32Array;
  private readonly fft: RealFft;
  private readonly mem: Float32Array;
  private readonly wnorm: number;

  /** `window` may be shared by all streams (read-only; one copy stays in cache for a batch). */
  constructor(readonly fftSize: number, readonly hopSize: number, fft = new RealFft(fftSize), window = vorbisWindow(fftSize)) {
    if (fftSize !== 2 * hopSize || hopSize % 2 !== 0) throw new Error('StftAnalysis supports 50 % overlap of an even hop only');
    this.fft = fft;
    if (window.length !== fftSize) throw new Error(`STFT window of ${window.length} samples for an FFT of ${fftSize}`);
    this.window = window;
    this.mem = new Float32Array(fftSize - hopSize);
    this.wnorm = 1 / ((fftSize * fftSize) / (2 * hopSize));
  }

  process(input: ArrayLike<number>, spec: Float32Array): void {
    const hop = this.hopSize;
    const half = hop / 2;
    const w = this.window;
    const mem = this.mem;
    // Windowed straight into the FFT's packed input: sample n goes to z[n >> 1] (re for even n, im for odd).
    const zRe = this.fft.zRe;
    const zIm = this.fft.zIm;
    for (let j = 0; j < half; j++) {
      const i = 2 * j;
      zRe[j] = mem[i]! * w[i]!;
      zIm[j] = mem[i + 1]! * w[i + 1]!;
      // A non-finite sample would poison the model's recurrent state for good: treat it as silence.
      const v0 = input[i]!;
      const x0 = v0 - v0 === 0 ? v0 : 0;
      const v1 = input[i + 1]!;
      const x1 = v1 - v1 === 0 ? v1 : 0;
      zRe[half + j] = x0 * w[hop + i]!;
      zIm[half + j] = x1 * w[hop + i + 1]!;
      mem[i] = x0;
      mem[i + 1] = x1;
    }
    this.fft.forwardPacked(spec, this.wnorm);
  }

  reset(): void {
    this.mem.fill(0);
  }
}

/** Per-stream synthesis: one spectrum in → one hop of samples out (overlap-add). */
export class StftSynthesis {
  readonly window: Float32Array;
  private readonly fft: RealFft;
  private readonly mem: Float32Array;

  /** `window` may be shared by all streams (read-only; one copy stays in cache for a batch). */
  constructor(readonly fftSize: number, readonly hopSize: number, fft = new RealFft(fftSize), window = vorbisWindow(fftSize)) {
    if (fftSize !== 2 * hopSize || hopSize % 2 !== 0) throw new Error('StftSynthesis supports 50 % overlap of an even hop only');
    this.fft = fft;
    if (window.length !== fftSize) throw new Error(`STFT window of ${window.length} samples for an FFT of ${fftSize}`);
    this.window = window;
    this.mem = new Float32Array(fftSize - hopSize);
  }

  process(spec: ArrayLike<number>, output: Float32Array): void {
    const hop = this.hopSize;
    const half = hop / 2;
    const w = this.window;
    const mem = this.mem;
    // Read straight from the FFT's packed, conjugated result: x[2j] = zRe[j], x[2j+1] = -zIm[j].
    this.fft.inverseToPacked(spec);
    const zRe = this.fft.zRe;
    const zIm = this.fft.zIm;
    for (let j = 0; j < half; j++) {
      const i = 2 * j;
      output[i] = zRe[j]! * w[i]! + mem[i]!;
      output[i + 1] = -zIm[j]! * w[i + 1]! + mem[i + 1]!;
      mem[i] = zRe[half + j]! * w[hop + i]!;
      mem[i + 1] = -zIm[half + j]! * w[hop + i + 1]!;
    }
  }

  reset(): void {
    this.mem.fill(0);
  }
}
