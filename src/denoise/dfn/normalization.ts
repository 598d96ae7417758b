// Input features of DeepFilterNet with their exponential normalizations (libDF lib.rs:
// feat_erb → band_mean_norm_erb, feat_cplx → band_unit_norm). The states are per stream and
// start at libDF's MEAN_NORM_INIT / UNIT_NORM_INIT ramps.
import { bandPower } from './erb.js';

/** libDF MEAN_NORM_INIT: dB ramp from the lowest to the highest ERB band. */
export const MEAN_NORM_INIT: readonly [number, number] = [-60, -90];
/** libDF UNIT_NORM_INIT: magnitude ramp from the lowest to the highest deep-filter bin. */
export const UNIT_NORM_INIT: readonly [number, number] = [0.001, 0.0001];

/** alpha = exp(-hop/sr/tau) rounded to the fewest decimals (≥ 3) that keep it below 1 (tract.rs calc_norm_alpha). */
export function normAlpha(sr: number, hopSize: number, tau: number): number {
  const alpha = Math.fround(Math.exp(-hopSize / sr / tau));
  let a = 1;
  let precision = 3;
  while (a >= 1) {
    const p = 10 ** precision;
    a = Math.fround(Math.round(Math.fround(alpha * p)) / p);
    precision++;
  }
  return a;
}

function ramp(n: number, [first, last]: readonly [number, number]): Float32Array {
  const out = new Float32Array(n);
  const step = n > 1 ? (last - first) / (n - 1) : 0;
  for (let i = 0; i < n; i++) out[i] = first + i * step;
  return out;
}

/** Per-stream feature extractor; writes straight into the model's input buffers. */
export class FeatureNormalizer {
  readonly meanState: Float32Array;
  readonly unitState: Float32Array;

  constructor(
    readonly widths: Int32Array,
    readonly nbDf: number,
    readonly alpha: number,
  ) {
    this.meanState = ramp(widths.length, MEAN_NORM_INIT);
    this.unitState = ramp(nbDf, UNIT_NORM_INIT);
  }

  reset(): void {
    this.meanState.set(ramp(this.widths.length, MEAN_NORM_INIT));
    this.unitState.set(ramp(this.nbDf, UNIT_NORM_INIT));
  }

  /** ERB dB features, mean-normalized and scaled by 1/40: nb_erb values at erbOut[erbOffset…]. */
  erbFeatures(spec: Float32Array, erbOut: Float32Array, erbOffset: number): void {
    const nb = this.widths.length;
    bandPower(spec, this.widths, erbOut, erbOffset);
    const a = this.alpha;
    const s = this.meanState;
    for (let b = 0; b < nb; b++) {
      const x = Math.log10(erbOut[erbOffset + b]! + 1e-10) * 10;
      const st = x * (1 - a) + s[b]! * a;
      s[b] = st;
      erbOut[erbOffset + b] = (x - st) / 40;
    }
  }

  /**
   * Unit-normalized complex features of the lowest nb_df bins in the model's [2, nb_df] layout:
   * real parts at specOut[offset…], imaginary parts at specOut[offset + nb_df…].
   */
  complexFeatures(spec: Float32Array, specOut: Float32Array, offset: number): void {
    const n = this.nbDf;
    const a = this.alpha;
    const s = this.unitState;
    for (let i = 0; i < n; i++) {
      const re = spec[2 * i]!;
      const im = spec[2 * i + 1]!;
      const st = Math.sqrt(re * re + im * im) * (1 - a) + s[i]! * a;
      s[i] = st;
      const d = Math.sqrt(st);
      specOut[offset + i] = re / d;
      specOut[offset + n + i] = im / d;
    }
  }
}
