// The whole-signal reference for DeepFilterNet3: features for every frame, the UNMODIFIED three
// graphs run once over all frames (S = T, as DeepFilterNet's enhance.py does), then the same
// enhancement per frame as tract.rs. The streaming engine must match it hop by hop.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type DfnParams, parseDfnConfig } from '../../src/denoise/dfn/dfn-config.js';
import { DEFAULT_THRESHOLDS, STAGE_DF, STAGE_GAINS, STAGE_ZERO_GAINS, attenLimFactor, deepFilter, stagesFor } from '../../src/denoise/dfn/deep-filter.js';
import { applyBandGains } from '../../src/denoise/dfn/erb.js';
import { StftAnalysis, StftSynthesis } from '../../src/denoise/dfn/stft.js';
import { DfnDspShared } from '../../src/denoise/dfn/stream-dsp.js';
import { FeatureNormalizer } from '../../src/denoise/dfn/normalization.js';

export interface OfflineResult {
  frames: number;
  /** [T] */
  lsnr: Float32Array;
  /** [T, nb_erb] */
  m: Float32Array;
  /** [T, nb_df, 2·df_order] */
  coefs: Float32Array;
  /** T·hop samples, delayed like the streaming engine (3 hops). */
  audio: Float32Array;
  params: DfnParams;
}

async function session(dir: string, file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path.join(dir, file), { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

export async function dfnOffline(modelDir: string, signal: Float32Array, attenLimDb: number | null = null): Promise<OfflineResult> {
  const p = parseDfnConfig(await readFile(path.join(modelDir, 'config.ini'), 'utf8'));
  const shared = new DfnDspShared(p);
  const hop = p.hopSize;
  const T = Math.floor(signal.length / hop);
  const bins = shared.freqBins;
  const ana = new StftAnalysis(p.fftSize, hop);
  const norm = new FeatureNormalizer(shared.widths, p.nbDf, shared.alpha);
  const specs: Float32Array[] = [];
  const featErb = new Float32Array(T * p.nbErb);
  const featSpec = new Float32Array(2 * T * p.nbDf); // [1, 2, T, nb_df]
  const row = new Float32Array(2 * p.nbDf);
  for (let t = 0; t < T; t++) {
    const spec = new Float32Array(2 * bins);
    ana.process(signal.subarray(t * hop, (t + 1) * hop), spec);
    specs.push(spec);
    norm.erbFeatures(spec, featErb, t * p.nbErb);
    norm.complexFeatures(spec, row, 0);
    featSpec.set(row.subarray(0, p.nbDf), t * p.nbDf);
    featSpec.set(row.subarray(p.nbDf), (T + t) * p.nbDf);
  }
  const enc = await session(modelDir, 'enc.onnx');
  const erb = await session(modelDir, 'erb_dec.onnx');
  const df = await session(modelDir, 'df_dec.onnx');
  try {
    const e = await enc.run({
      feat_erb: new ort.Tensor('float32', featErb, [1, 1, T, p.nbErb]),
      feat_spec: new ort.Tensor('float32', featSpec, [1, 2, T, p.nbDf]),
    });
    const m = await erb.run({ emb: e.emb!, e3: e.e3!, e2: e.e2!, e1: e.e1!, e0: e.e0! });
    const c = await df.run({ emb: e.emb!, c0: e.c0! });
    const lsnr = e.lsnr!.data as Float32Array;
    const gains = m.m!.data as Float32Array;
    const coefs = c.coefs!.data as Float32Array;

    const syn = new StftSynthesis(p.fftSize, hop);
    const audio = new Float32Array(T * hop);
    const zero = new Float32Array(2 * bins);
    const frame = (j: number) => (j >= 0 ? specs[j]! : zero);
    const work = new Float32Array(2 * bins);
    const lim = attenLimFactor(attenLimDb);
    const L = shared.lookahead;
    const perCoef = p.nbDf * p.dfOrder * 2;
    const window: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const noisy = frame(t - L);
      work.set(noisy);
      const stages = stagesFor(lsnr[t]!, DEFAULT_THRESHOLDS);
      if (stages & STAGE_GAINS) applyBandGains(work, gains, shared.widths, t * p.nbErb);
      else if (stages & STAGE_ZERO_GAINS) work.fill(0);
      if (stages & STAGE_DF) {
        window.length = 0;
        for (let k = 0; k < p.dfOrder; k++) window.push(frame(t - p.dfOrder + 1 + k));
        deepFilter(window, 0, coefs, t * perCoef, p.nbDf, p.dfOrder, work);
      }
      if (lim > 0) for (let i = 0; i < work.length; i++) work[i] = work[i]! * (1 - lim) + noisy[i]! * lim;
      syn.process(work, audio.subarray(t * hop, (t + 1) * hop));
    }
    return { frames: T, lsnr: Float32Array.from(lsnr), m: Float32Array.from(gains), coefs: Float32Array.from(coefs), audio, params: p };
  } finally {
    await Promise.all([enc.release(), erb.release(), df.release()]);
  }
}
