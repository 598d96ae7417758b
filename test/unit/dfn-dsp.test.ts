import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DFN3_PARAMS } from '../../src/denoise/dfn/dfn-config.js';
import { STAGE_DF, STAGE_GAINS, STAGE_ZERO_GAINS, DEFAULT_THRESHOLDS, TRACT_REALTIME_THRESHOLDS, attenLimFactor, stagesFor } from '../../src/denoise/dfn/deep-filter.js';
import { erbBandWidths } from '../../src/denoise/dfn/erb.js';
import { RealFft } from '../../src/denoise/dfn/fft.js';
import { FeatureNormalizer, MEAN_NORM_INIT, UNIT_NORM_INIT, normAlpha } from '../../src/denoise/dfn/normalization.js';
import { StftAnalysis, StftSynthesis } from '../../src/denoise/dfn/stft.js';
import { DfnDspShared, DfnStreamDsp } from '../../src/denoise/dfn/stream-dsp.js';

function noise(n: number, seed = 1): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

test('real FFT of size 960 equals the naive DFT and its inverse returns N·x', () => {
  const n = 960;
  const x = noise(n, 7);
  const fft = new RealFft(n);
  const spec = new Float64Array(n + 2);
  fft.forward(x, spec);
  let maxErr = 0;
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += x[t]! * Math.cos((-2 * Math.PI * k * t) / n);
      im += x[t]! * Math.sin((-2 * Math.PI * k * t) / n);
    }
    maxErr = Math.max(maxErr, Math.abs(re - spec[2 * k]!), Math.abs(im - spec[2 * k + 1]!));
  }
  assert.ok(maxErr < 1e-9, `forward error ${maxErr}`);
  const back = new Float64Array(n);
  fft.inverse(spec, back);
  for (let i = 0; i < n; i++) assert.ok(Math.abs(back[i]! / n - x[i]!) < 1e-12);
});

test('STFT analysis then synthesis reproduces the input delayed by one hop (error < 1e-5)', () => {
  const { fftSize, hopSize } = DFN3_PARAMS;
  const x = noise(hopSize * 100, 3);
  const ana = new StftAnalysis(fftSize, hopSize);
  const syn = new StftSynthesis(fftSize, hopSize);
  const spec = new Float32Array(fftSize + 2);
  const out = new Float32Array(x.length);
  const hop = new Float32Array(hopSize);
  for (let t = 0; t < 100; t++) {
    ana.process(x.subarray(t * hopSize, (t + 1) * hopSize), spec);
    syn.process(spec, hop);
    out.set(hop, t * hopSize);
  }
  let maxErr = 0;
  for (let i = hopSize; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(out[i]! - x[i - hopSize]!));
  assert.ok(maxErr < 1e-5, `reconstruction error ${maxErr}`);
});

test('stream DSP with identity gains returns the input delayed by its latency of 3 hops', () => {
  const shared = new DfnDspShared(DFN3_PARAMS);
  assert.equal(shared.latencyHops, 3);
  const dsp = new DfnStreamDsp(shared, { thresholds: TRACT_REALTIME_THRESHOLDS });
  const { hopSize, nbErb, nbDf, dfOrder } = DFN3_PARAMS;
  const ones = new Float32Array(nbErb).fill(1);
  const coefs = new Float32Array(nbDf * dfOrder * 2);
  const featErb = new Float32Array(nbErb);
  const featSpec = new Float32Array(2 * nbDf);
  const x = noise(hopSize * 60, 5);
  const out = new Float32Array(x.length);
  const hop = new Float32Array(hopSize);
  for (let t = 0; t < 60; t++) {
    dsp.analyze(x.subarray(t * hopSize, (t + 1) * hopSize), featErb, 0, featSpec, 0);
    dsp.enhance(25, ones, 0, coefs, 0, hop); // 25 dB: gains only, no deep filter
    assert.equal(dsp.lastStages, STAGE_GAINS);
    out.set(hop, t * hopSize);
  }
  const d = 3 * hopSize;
  let maxErr = 0;
  for (let i = d; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(out[i]! - x[i - d]!));
  assert.ok(maxErr < 1e-5, `error ${maxErr}`);
});

test('an attenuation limit of 0 dB passes the input through with the same latency', () => {
  const shared = new DfnDspShared(DFN3_PARAMS);
  const dsp = new DfnStreamDsp(shared, { attenLimDb: 0 });
  const { hopSize, nbErb, nbDf, dfOrder } = DFN3_PARAMS;
  const zeros = new Float32Array(nbErb);
  const coefs = new Float32Array(nbDf * dfOrder * 2);
  const x = noise(hopSize * 20, 9);
  const out = new Float32Array(x.length);
  const hop = new Float32Array(hopSize);
  for (let t = 0; t < 20; t++) {
    dsp.analyze(x.subarray(t * hopSize, (t + 1) * hopSize), new Float32Array(nbErb), 0, new Float32Array(2 * nbDf), 0);
    dsp.enhance(0, zeros, 0, coefs, 0, hop);
    out.set(hop, t * hopSize);
  }
  for (let i = 3 * hopSize; i < x.length; i++) assert.ok(Math.abs(out[i]! - x[i - 3 * hopSize]!) < 1e-5);
});

test('ERB band widths sum to 481 bins with at least 2 bins in each of the 32 bands', () => {
  const w = erbBandWidths(48_000, 960, 32, 2);
  assert.equal(w.length, 32);
  assert.equal(w.reduce((a, b) => a + b, 0), 481);
  for (const b of w) assert.ok(b >= 2, `band of ${b} bins`);
  for (let i = 1; i < w.length - 1; i++) assert.ok(w[i]! >= w[i - 1]!, 'bands widen with frequency');
  assert.deepEqual(Array.from(w.slice(0, 4)), [2, 2, 2, 2]);
});

test('normalization alpha is 0.99 for a 10 ms hop and tau = 1 s', () => {
  assert.equal(normAlpha(48_000, 480, 1), Math.fround(0.99));
});

test('normalization states start at the libDF ramps and decay exponentially towards the input', () => {
  const widths = erbBandWidths(48_000, 960, 32, 2);
  const a = normAlpha(48_000, 480, 1);
  const norm = new FeatureNormalizer(widths, 96, a);
  assert.ok(Math.abs(norm.meanState[0]! - MEAN_NORM_INIT[0]) < 1e-6);
  assert.ok(Math.abs(norm.meanState[31]! - MEAN_NORM_INIT[1]) < 1e-4);
  assert.ok(Math.abs(norm.unitState[0]! - UNIT_NORM_INIT[0]) < 1e-9);
  assert.ok(Math.abs(norm.unitState[95]! - UNIT_NORM_INIT[1]) < 1e-9);
  // A flat spectrum of magnitude 0.01 in every bin: band power 1e-4 → -40 dB.
  const spec = new Float32Array(2 * 481);
  for (let i = 0; i < 481; i++) spec[2 * i] = 0.01;
  const erb = new Float32Array(32);
  const cplx = new Float32Array(192);
  const m0 = Float64Array.from(norm.meanState);
  const u0 = Float64Array.from(norm.unitState);
  const hops = 50;
  for (let t = 0; t < hops; t++) {
    norm.erbFeatures(spec, erb, 0);
    norm.complexFeatures(spec, cplx, 0);
  }
  const decay = a ** hops;
  for (let b = 0; b < 32; b++) {
    const expected = -40 + (m0[b]! + 40) * decay;
    assert.ok(Math.abs(norm.meanState[b]! - expected) < 1e-3, `band ${b}: ${norm.meanState[b]} vs ${expected}`);
    assert.ok(Math.abs(erb[b]! - (-40 - norm.meanState[b]!) / 40) < 1e-5);
  }
  for (let i = 0; i < 96; i++) {
    const expected = 0.01 + (u0[i]! - 0.01) * decay;
    assert.ok(Math.abs(norm.unitState[i]! - expected) < 1e-6);
    assert.ok(Math.abs(cplx[i]! - 0.01 / Math.sqrt(norm.unitState[i]!)) < 1e-5, 'real part divided by √state');
    assert.equal(cplx[96 + i], 0);
  }
  norm.reset();
  assert.deepEqual(Array.from(norm.meanState), Array.from(new FeatureNormalizer(widths, 96, a).meanState));
});

test('local-SNR gating follows tract.rs; by default every frame in the model\'s lsnr range gets both stages', () => {
  assert.equal(stagesFor(-20, TRACT_REALTIME_THRESHOLDS), STAGE_ZERO_GAINS);
  assert.equal(stagesFor(0, TRACT_REALTIME_THRESHOLDS), STAGE_GAINS | STAGE_DF);
  assert.equal(stagesFor(25, TRACT_REALTIME_THRESHOLDS), STAGE_GAINS);
  assert.equal(stagesFor(35, TRACT_REALTIME_THRESHOLDS), 0);
  for (const lsnr of [-15, 0, 20, 30, 35]) assert.equal(stagesFor(lsnr, DEFAULT_THRESHOLDS), STAGE_GAINS | STAGE_DF);
  assert.equal(attenLimFactor(null), 0);
  assert.equal(attenLimFactor(100), 0);
  assert.equal(attenLimFactor(0), 1);
  assert.ok(Math.abs(attenLimFactor(20) - 0.1) < 1e-12);
});

test('the post-filter leaves untouched bins alone and attenuates bins the model already attenuated', async () => {
  const { postFilter } = await import('../../src/denoise/dfn/deep-filter.js');
  const noisy = new Float32Array(2 * 481).fill(0.5);
  const enh = Float32Array.from(noisy);
  for (let i = 0; i < 8; i++) enh[i] = 0.25; // bins 0..3 at half gain
  postFilter(noisy, enh, 0.02);
  assert.ok(Math.abs(enh[20]! - 0.5) < 1e-6, 'gain 1 stays 1');
  assert.ok(enh[0]! < 0.25 && enh[0]! > 0.24, `half gain is lowered a little: ${enh[0]}`);
});
