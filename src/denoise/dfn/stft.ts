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
  private readonly buf: Float64Array;
  private readonly wnorm: number;

  constructor(readonly fftSize: number, readonly hopSize: number, fft = new RealFft(fftSize)) {
    if (fftSize !== 2 * hopSize) throw new Error('StftAnalysis supports 50 % overlap only');
    this.fft = fft;
    this.window = vorbisWindow(fftSize);
    this.mem = new Float32Array(fftSize - hopSize);
    this.buf = new Float64Array(fftSize);
    this.wnorm = 1 / ((fftSize * fftSize) / (2 * hopSize));
  }

  process(input: ArrayLike<number>, spec: Float32Array): void {
    const hop = this.hopSize;
    const w = this.window;
    const buf = this.buf;
    for (let i = 0; i < hop; i++) {
      buf[i] = this.mem[i]! * w[i]!;
      // A non-finite sample would poison the model's recurrent state for good: treat it as silence.
      const v = input[i]!;
      const x = v - v === 0 ? v : 0;
      buf[hop + i] = x * w[hop + i]!;
      this.mem[i] = x;
    }
    this.fft.forward(buf, spec, this.wnorm);
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
  private readonly buf: Float64Array;

  constructor(readonly fftSize: number, readonly hopSize: number, fft = new RealFft(fftSize)) {
    if (fftSize !== 2 * hopSize) throw new Error('StftSynthesis supports 50 % overlap only');
    this.fft = fft;
    this.window = vorbisWindow(fftSize);
    this.mem = new Float32Array(fftSize - hopSize);
    this.buf = new Float64Array(fftSize);
  }

  process(spec: ArrayLike<number>, output: Float32Array): void {
    const hop = this.hopSize;
    const w = this.window;
    const buf = this.buf;
    this.fft.inverse(spec, buf);
    for (let i = 0; i < hop; i++) {
      output[i] = buf[i]! * w[i]! + this.mem[i]!;
      this.mem[i] = buf[hop + i]! * w[hop + i]!;
    }
  }

  reset(): void {
    this.mem.fill(0);
  }
}
