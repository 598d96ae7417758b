import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { FRAME_SIZE } from '../../src/denoise/denoiser.js';
import { DFN3_UNAVAILABLE, loadEngineRuntime } from '../../src/denoise/engines.js';
import { defaultRnnoiseBuild, loadRnnoiseRuntime, type RnnoiseBuild } from '../../src/denoise/rnnoise.js';
import { loadSharedAudio } from '../integration/media-peers.js';
import { align, energy, prng } from '../integration/media-signal.js';

const config = loadConfig({ DATA_DIR: '/nonexistent-hushcast-test', DFN_MODEL_DIR: '/nonexistent-model-dir' });
const quiet = { warn: () => {} };

function noise(seconds: number, amplitude: number, seed = 3): Float32Array {
  const rnd = prng(seed);
  const x = new Float32Array(seconds * 48_000);
  for (let i = 0; i < x.length; i++) x[i] = (rnd() * 2 - 1) * amplitude;
  return x;
}

function speechInNoise(): { clean: Float32Array; noisy: Float32Array } {
  const clean = loadSharedAudio('clean_freesound_33711.wav').subarray(48_000, 48_000 * 4);
  const n = loadSharedAudio('noise_freesound_573577.wav').subarray(0, clean.length);
  const g = Math.sqrt(energy(clean) / energy(n));
  return { clean, noisy: Float32Array.from(clean, (c, i) => c + g * n[i]!) };
}

function run(process: (f: Float32Array) => Float32Array, input: Float32Array): Float32Array {
  const out = new Float32Array(input.length);
  const frame = new Float32Array(FRAME_SIZE);
  for (let i = 0; i + FRAME_SIZE <= input.length; i += FRAME_SIZE) {
    frame.set(input.subarray(i, i + FRAME_SIZE));
    out.set(process(frame), i);
  }
  return out;
}

describe('denoise engines', () => {
  it('none passes audio through unchanged, with no delay', async () => {
    const { runtime, fallbackReason } = await loadEngineRuntime('none', config, quiet);
    assert.equal(fallbackReason, null);
    const d = runtime.createStream({ attenLimDb: null });
    assert.equal(d.engine, 'none');
    assert.equal(d.latencyFrames, 0);
    const x = noise(1, 0.3);
    assert.deepEqual(run((f) => d.process(f), x), x);
    d.close();
    d.close();
  });

  it('rnnoise pulls noise-only input down by more than 10 dB, and keeps state per stream', async () => {
    const { runtime } = await loadEngineRuntime('rnnoise', config, quiet);
    const d = runtime.createStream({ attenLimDb: null });
    assert.equal(d.engine, 'rnnoise');
    const x = noise(3, 0.1);
    const y = run((f) => d.process(f), x);
    assert.ok(y.every(Number.isFinite));
    // After the first half second (the model settles), compare energies.
    const from = 24_000;
    const reductionDb = 10 * Math.log10(energy(x, from) / Math.max(energy(y, from), 1e-12));
    assert.ok(reductionDb > 10, `noise reduced by ${reductionDb.toFixed(1)} dB`);
    d.close();
    d.close();
  });

  it('rnnoise with an attenuation limit keeps that much of the noise', async () => {
    const { runtime } = await loadEngineRuntime('rnnoise', config, quiet);
    const full = runtime.createStream({ attenLimDb: null });
    const limited = runtime.createStream({ attenLimDb: 6 });
    const x = noise(2, 0.1);
    const eFull = energy(run((f) => full.process(f), x), 24_000);
    const eLim = energy(run((f) => limited.process(f), x), 24_000);
    const reductionDb = 10 * Math.log10(energy(x, 24_000) / eLim);
    assert.ok(eLim > eFull, 'limited keeps more');
    assert.ok(reductionDb < 7.5, `limited reduction ${reductionDb.toFixed(1)} dB`);
    const off = runtime.createStream({ attenLimDb: 0 });
    const y = run((f) => off.process(f), x);
    // 0 dB = off: the input comes out unchanged, as late as RNNoise's own output.
    assert.ok(Math.abs(y[off.latencyFrames * FRAME_SIZE + 100]! - x[100]!) < 1e-6);
    for (const d of [full, limited, off]) d.close();
  });

  for (const build of ['simd', 'plain'] as RnnoiseBuild[]) {
    it(`rnnoise (${build} build) output lags its input by exactly latencyFrames (speech in noise lines up there)`, async () => {
      const runtime = await loadRnnoiseRuntime(build);
      const d = runtime.createStream({ attenLimDb: null });
      const { clean, noisy } = speechInNoise();
      const y = run((f) => d.process(f), noisy);
      const a = align(clean, y, 0, 4 * FRAME_SIZE);
      assert.equal(a.lag, d.latencyFrames * FRAME_SIZE);
      assert.ok(a.corr > align(clean, noisy, 0, 0).corr + 0.1, 'closer to the clean speech than the input was');
      d.close();
    });
  }

  it('rnnoise runs the SIMD build where WebAssembly SIMD validates, and it matches the plain build to float rounding', async () => {
    const { runtime } = await loadEngineRuntime('rnnoise', config, quiet);
    // Node >= 20 (V8) validates SIMD, so this is the build the media workers run.
    assert.equal(defaultRnnoiseBuild(), 'simd');
    assert.equal((runtime as { build?: RnnoiseBuild }).build, 'simd', 'the engine the media workers load');
    const plain = (await loadRnnoiseRuntime('plain')).createStream({ attenLimDb: null });
    const simd = runtime.createStream({ attenLimDb: null });
    const { noisy } = speechInNoise();
    const yp = run((f) => plain.process(f), noisy);
    const ys = run((f) => simd.process(f), noisy);
    let err = 0;
    for (let i = 0; i < yp.length; i++) err += (yp[i]! - ys[i]!) ** 2;
    // Measured ~140 dB: the same network, only float summation order differs.
    const snrDb = 10 * Math.log10(energy(yp) / Math.max(err, 1e-30));
    assert.ok(snrDb > 100, `SIMD vs plain build: ${snrDb.toFixed(1)} dB`);
    plain.close();
    simd.close();
  });

  it('rnnoise streams created before the WASM heap grows keep their state and output', async () => {
    const runtime = await loadRnnoiseRuntime();
    const reference = (await loadRnnoiseRuntime()).createStream({ attenLimDb: null });
    const early = runtime.createStream({ attenLimDb: null });
    const { noisy } = speechInNoise();
    const half = Math.floor(noisy.length / FRAME_SIZE / 2) * FRAME_SIZE;
    const expected = run((f) => reference.process(f), noisy);
    const first = run((f) => early.process(f), noisy.subarray(0, half));
    // ~23 kB of state per stream: 1,000 streams outgrow the initial 16 MiB heap.
    const many = Array.from({ length: 1000 }, () => runtime.createStream({ attenLimDb: null }));
    const second = run((f) => early.process(f), noisy.subarray(half));
    assert.deepEqual(first, expected.subarray(0, half));
    assert.deepEqual(second, expected.subarray(half));
    const late = many[many.length - 1]!;
    assert.ok(run((f) => late.process(f), noisy).every(Number.isFinite));
    for (const d of [reference, early, ...many]) d.close();
  });

  it('two rnnoise streams do not share state', async () => {
    const { runtime } = await loadEngineRuntime('rnnoise', config, quiet);
    const a = runtime.createStream({ attenLimDb: null });
    const b = runtime.createStream({ attenLimDb: null });
    const x = noise(1, 0.1, 5);
    run((f) => a.process(f), noise(1, 0.5, 9)); // a has history, b does not
    const ya = run((f) => a.process(f), x);
    const yb = run((f) => b.process(f), x);
    assert.notDeepEqual(ya.subarray(0, 4800), yb.subarray(0, 4800));
    a.reset();
    const fresh = runtime.createStream({ attenLimDb: null });
    const yb2 = run((f) => fresh.process(f), x);
    fresh.close();
    const ya2 = run((f) => a.process(f), x);
    assert.deepEqual(ya2, yb2, 'reset() = freshly created');
    a.close();
    b.close();
  });

  it('dfn3 without its runtime falls back to rnnoise and says why', async () => {
    const warnings: string[] = [];
    const { runtime, fallbackReason } = await loadEngineRuntime('dfn3', config, { warn: (_o, m) => warnings.push(m) });
    assert.equal(runtime.engine, 'rnnoise');
    assert.ok(fallbackReason);
    assert.ok(warnings.length === 1);
    if (fallbackReason === DFN3_UNAVAILABLE) return;
    // Once the DeepFilterNet3 engine is wired in, a missing model directory is the reason.
    assert.match(fallbackReason, /model|DeepFilterNet/i);
  });
});
