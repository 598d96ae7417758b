// The enhancement stages applied to the spectrum after the model ran (tract.rs DfTract::process):
// local-SNR stage gating, deep filtering of the lowest bins, the optional post-filter and the
// attenuation limit that mixes some noisy signal back.

/** Stage thresholds in dB of the model's local-SNR estimate (tract.rs RuntimeParams defaults). */
export interface StageThresholds {
  /** Below: only noise, apply a zero mask and no deep filter. */
  minDbThresh: number;
  /** Above: clean speech, leave the frame untouched. */
  maxDbErbThresh: number;
  /** Above (and below maxDbErbThresh): apply ERB gains only, skip the deep filter. */
  maxDbDfThresh: number;
}

/**
 * Defaults of DeepFilterNet's own enhance_wav (-15 / 35 / 35 dB): the model's lsnr spans exactly
 * [-15, 35] dB, so every frame gets ERB gains and the deep filter, as in the Python enhance().
 * Gating with tract.rs's RuntimeParams defaults (TRACT_REALTIME_THRESHOLDS) cost 7 dB of SI-SDR
 * on our 0 dB mixture (9.6 → 2.7 dB), so it is opt-in.
 */
export const DEFAULT_THRESHOLDS: StageThresholds = { minDbThresh: -15, maxDbErbThresh: 35, maxDbDfThresh: 35 };
/** tract.rs RuntimeParams::default_with_ch: skips stages on very noisy or very clean frames. */
export const TRACT_REALTIME_THRESHOLDS: StageThresholds = { minDbThresh: -10, maxDbErbThresh: 30, maxDbDfThresh: 20 };

export const STAGE_GAINS = 1;
export const STAGE_ZERO_GAINS = 2;
export const STAGE_DF = 4;

/** Which stages run for a frame with this local SNR (tract.rs apply_stages), as STAGE_* bits. */
export function stagesFor(lsnr: number, t: StageThresholds): number {
  if (lsnr < t.minDbThresh) return STAGE_ZERO_GAINS;
  if (lsnr > t.maxDbErbThresh) return 0;
  if (lsnr > t.maxDbDfThresh) return STAGE_GAINS;
  return STAGE_GAINS | STAGE_DF;
}

/**
 * Linear mix-back factor for an attenuation limit in dB (tract.rs set_atten_lim):
 * null or ≥ 100 dB → 0 (unlimited), below 0.01 dB → 1 (denoising off).
 */
export function attenLimFactor(attenLimDb: number | null): number {
  if (attenLimDb === null) return 0;
  const lim = Math.abs(attenLimDb);
  if (lim >= 100) return 0;
  if (lim < 0.01) return 1;
  return 10 ** (-lim / 20);
}

/**
 * Deep filter (tract.rs df): out[f] = Σ_k x[t - order + 1 + k][f] · c[f, k] for f < nbDf, complex.
 * frames: `order` interleaved complex spectra, oldest first starting at ring index `oldest`.
 * coefs: [nbDf, order, 2] starting at coefOffset.
 */
export function deepFilter(
  frames: readonly Float32Array[],
  oldest: number,
  coefs: Float32Array,
  coefOffset: number,
  nbDf: number,
  order: number,
  out: Float32Array,
): void {
  const n = frames.length;
  const first = oldest % n;
  for (let f = 0; f < nbDf; f++) {
    let accRe = 0;
    let accIm = 0;
    const cBase = coefOffset + f * order * 2;
    // Ring index without a modulo per tap (this loop runs nbDf · order times per hop).
    for (let k = 0, r = first; k < order; k++, r = r + 1 === n ? 0 : r + 1) {
      const x = frames[r]!;
      const xr = x[2 * f]!;
      const xi = x[2 * f + 1]!;
      const cr = coefs[cBase + 2 * k]!;
      const ci = coefs[cBase + 2 * k + 1]!;
      accRe += xr * cr - xi * ci;
      accIm += xr * ci + xi * cr;
    }
    out[2 * f] = accRe;
    out[2 * f + 1] = accIm;
  }
}

/** Post-filter of DeepFilterNet (lib.rs post_filter): further attenuates bins the model already attenuated. */
export function postFilter(noisy: Float32Array, enh: Float32Array, beta: number): void {
  const eps = 1e-12;
  const bins = Math.floor(noisy.length / 8) * 4; // libDF processes chunks of 4 bins
  const betaP1 = beta + 1;
  for (let i = 0; i < bins; i++) {
    const nAbs = Math.sqrt(noisy[2 * i]! ** 2 + noisy[2 * i + 1]! ** 2);
    const eAbs = Math.sqrt(enh[2 * i]! ** 2 + enh[2 * i + 1]! ** 2);
    const g = Math.max(eps, Math.min(1, eAbs / (nAbs + eps)));
    const gSin = g * Math.sin((g * Math.PI) / 2);
    const q = g / gSin;
    const pf = (betaP1 * g) / (1 + beta * q * q) / g;
    enh[2 * i] = enh[2 * i]! * pf;
    enh[2 * i + 1] = enh[2 * i + 1]! * pf;
  }
}
