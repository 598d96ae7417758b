// The host DSP of one DeepFilterNet stream around the model, split in two halves so that a
// worker can batch the model run of many streams in between:
//   analyze(): STFT of the new hop, features into the model's input buffers;
//   enhance(): ERB gains + deep filter on the frame `lookahead` hops back, attenuation limit, ISTFT.
// Mirrors tract.rs DfTract::process. Every buffer is allocated once here.
import type { DfnParams } from './dfn-config.js';
import { lookaheadHops } from './dfn-config.js';
import {
  DEFAULT_THRESHOLDS,
  STAGE_DF,
  STAGE_GAINS,
  STAGE_ZERO_GAINS,
  type StageThresholds,
  attenLimFactor,
  deepFilter,
  postFilter,
  stagesFor,
} from './deep-filter.js';
import { bandGainsInto, erbBandWidths } from './erb.js';
import { RealFft } from './fft.js';
import { FeatureNormalizer, normAlpha } from './normalization.js';
import { StftAnalysis, StftSynthesis, vorbisWindow } from './stft.js';

export interface DfnDspOptions {
  thresholds?: StageThresholds;
  /** Post-filter strength (DeepFilterNet's default when enabled: 0.02); 0 = off. */
  postFilterBeta?: number;
  /** Attenuation limit in dB; null = unlimited. */
  attenLimDb?: number | null;
}

/** Values shared by every stream of one model (computed once per runtime). */
export class DfnDspShared {
  readonly widths: Int32Array;
  readonly alpha: number;
  readonly freqBins: number;
  readonly lookahead: number;
  readonly fft: RealFft;
  /** The STFT window, one copy for every stream's analysis and synthesis. */
  readonly window: Float32Array;

  constructor(readonly params: DfnParams) {
    this.widths = erbBandWidths(params.sr, params.fftSize, params.nbErb, params.minNbErbFreqs);
    this.alpha = normAlpha(params.sr, params.hopSize, params.normTau);
    this.freqBins = params.fftSize / 2 + 1;
    this.lookahead = lookaheadHops(params);
    this.fft = new RealFft(params.fftSize);
    this.window = vorbisWindow(params.fftSize);
  }

  /** Output lags input by the STFT (one hop) plus the model lookahead. */
  get latencyHops(): number {
    return 1 + this.lookahead;
  }
}

export class DfnStreamDsp {
  readonly features: FeatureNormalizer;
  private readonly analysis: StftAnalysis;
  private readonly synthesis: StftSynthesis;
  /** Noisy spectra of the last max(df_order, lookahead + 1) hops; `head` is the newest. */
  private readonly ring: Float32Array[];
  private head: number;
  private readonly work: Float32Array;
  private readonly thresholds: StageThresholds;
  private readonly postFilterBeta: number;
  private lim: number;
  /** Stages applied to the last enhanced frame (for tests and stats). */
  lastStages = 0;

  constructor(readonly shared: DfnDspShared, opts: DfnDspOptions = {}) {
    const p = shared.params;
    this.features = new FeatureNormalizer(shared.widths, p.nbDf, shared.alpha);
    this.analysis = new StftAnalysis(p.fftSize, p.hopSize, shared.fft, shared.window);
    this.synthesis = new StftSynthesis(p.fftSize, p.hopSize, shared.fft, shared.window);
    const ringLen = Math.max(p.dfOrder, shared.lookahead + 1);
    this.ring = Array.from({ length: ringLen }, () => new Float32Array(2 * shared.freqBins));
    this.head = ringLen - 1;
    this.work = new Float32Array(2 * shared.freqBins);
    this.thresholds = opts.thresholds ?? DEFAULT_THRESHOLDS;
    this.postFilterBeta = opts.postFilterBeta ?? 0;
    this.lim = attenLimFactor(opts.attenLimDb ?? null);
  }

  setAttenLimDb(attenLimDb: number | null): void {
    this.lim = attenLimFactor(attenLimDb);
  }

  reset(): void {
    for (const f of this.ring) f.fill(0);
    this.head = this.ring.length - 1;
    this.analysis.reset();
    this.synthesis.reset();
    this.features.reset();
    this.lastStages = 0;
  }

  /** STFT of one hop and the model's input features: feat_erb [nb_erb] and feat_spec [2, nb_df]. */
  analyze(input: ArrayLike<number>, featErb: Float32Array, erbOffset: number, featSpec: Float32Array, specOffset: number): void {
    this.head = (this.head + 1) % this.ring.length;
    const spec = this.ring[this.head]!;
    this.analysis.process(input, spec);
    this.features.erbFeatures(spec, featErb, erbOffset);
    this.features.complexFeatures(spec, featSpec, specOffset);
  }

  /**
   * Applies this hop's model outputs (lsnr, ERB gains m [nb_erb], coefs [nb_df, df_order, 2]) to the
   * frame `lookahead` hops back and writes one hop of enhanced audio.
   */
  enhance(lsnr: number, gains: Float32Array, gainOffset: number, coefs: Float32Array, coefOffset: number, output: Float32Array): void {
    const p = this.shared.params;
    const n = this.ring.length;
    const noisy = this.ring[(this.head - this.shared.lookahead + n) % n]!;
    const work = this.work;
    const stages = stagesFor(lsnr, this.thresholds);
    this.lastStages = stages;
    if (stages & STAGE_GAINS) {
      bandGainsInto(noisy, work, gains, this.shared.widths, gainOffset);
    } else if (stages & STAGE_ZERO_GAINS) {
      work.fill(0);
    } else {
      work.set(noisy);
    }
    if (stages & STAGE_DF) {
      deepFilter(this.ring, (this.head - p.dfOrder + 1 + n) % n, coefs, coefOffset, p.nbDf, p.dfOrder, work);
    }
    if (stages & STAGE_GAINS && this.postFilterBeta > 0) postFilter(noisy, work, this.postFilterBeta);
    const lim = this.lim;
    if (lim > 0) {
      for (let i = 0; i < work.length; i++) work[i] = work[i]! * (1 - lim) + noisy[i]! * lim;
    }
    this.synthesis.process(work, output);
  }
}
