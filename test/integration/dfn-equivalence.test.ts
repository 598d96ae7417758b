import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FRAME_SIZE } from '../../src/denoise/denoiser.js';
import { type Dfn3Runtime, type Dfn3Stream, loadDfn3Runtime } from '../../src/denoise/dfn/runtime.js';
import { dfnModelDir, loadSharedAudio } from '../support/dfn-audio.js';
import { type OfflineResult, dfnOffline } from '../support/dfn-offline.js';

const TOL = 1e-4;
let runtime: Dfn3Runtime;
let signal: Float32Array;
let offline: OfflineResult;

before(async () => {
  // 10.6 s of real speech in real noise.
  signal = await loadSharedAudio('noisy_snr0.wav');
  assert.ok(signal.length >= 10 * 48_000);
  runtime = await loadDfn3Runtime(dfnModelDir());
  offline = await dfnOffline(dfnModelDir(), signal);
});
after(async () => {
  await runtime?.close();
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

interface StreamRun {
  lsnr: number;
  m: number;
  coefs: number;
  audio: Float32Array;
}

/** Runs `streams` hop by hop over `inputs` (batched when more than one) and compares stream 0's model outputs to the offline run. */
function runStreaming(streams: Dfn3Stream[], inputs: Float32Array[], ref: OfflineResult): StreamRun {
  const T = ref.frames;
  const { nbErb } = ref.params;
  const per = ref.coefs.length / T;
  const err = { lsnr: 0, m: 0, coefs: 0 };
  const audio = new Float32Array(T * FRAME_SIZE);
  const outs = streams.map(() => new Float32Array(FRAME_SIZE));
  for (let t = 0; t < T; t++) {
    const frames = inputs.map((x) => x.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
    if (streams.length === 1) outs[0]!.set(streams[0]!.process(frames[0]!));
    else runtime.processMany(streams, frames, outs);
    audio.set(outs[0]!, t * FRAME_SIZE);
    const o = streams[0]!.lastModelOutputs();
    err.lsnr = Math.max(err.lsnr, Math.abs(o.lsnr - ref.lsnr[t]!));
    err.m = Math.max(err.m, maxAbsDiff(o.m, ref.m.subarray(t * nbErb, (t + 1) * nbErb)));
    err.coefs = Math.max(err.coefs, maxAbsDiff(o.coefs, ref.coefs.subarray(t * per, (t + 1) * per)));
  }
  return { ...err, audio };
}

test('hop-by-hop dfn3 equals the unmodified graphs run over the whole 10.6 s signal (model outputs and audio < 1e-4)', () => {
  const s = runtime.createStream({ attenLimDb: null });
  const r = runStreaming([s], [signal], offline);
  s.close();
  assert.ok(r.lsnr < TOL, `lsnr max abs error ${r.lsnr}`);
  assert.ok(r.m < TOL, `ERB gains max abs error ${r.m}`);
  assert.ok(r.coefs < TOL, `DF coefficients max abs error ${r.coefs}`);
  const audioErr = maxAbsDiff(r.audio, offline.audio);
  assert.ok(audioErr < TOL, `enhanced audio max abs error ${audioErr}`);
  // The comparison is meaningful: the model really changes the signal.
  const d = 3 * FRAME_SIZE;
  let changed = 0;
  for (let i = d; i < r.audio.length; i++) changed = Math.max(changed, Math.abs(r.audio[i]! - signal[i - d]!));
  assert.ok(changed > 0.05, 'denoised audio differs from the delayed input');
});

test('a batch of 3 streams gives each stream the same result as running it alone, whatever the order and membership', () => {
  const shifted = signal.slice(48_000 * 3);
  const other = new Float32Array(signal.length);
  other.set(shifted);
  const quiet = signal.map((v) => v * 0.1);
  const [a, b, c] = [runtime.createStream({ attenLimDb: null }), runtime.createStream({ attenLimDb: null }), runtime.createStream({ attenLimDb: null })];
  const T = offline.frames;
  const outs = [new Float32Array(FRAME_SIZE), new Float32Array(FRAME_SIZE), new Float32Array(FRAME_SIZE)];
  const audio = new Float32Array(T * FRAME_SIZE);
  for (let t = 0; t < T; t++) {
    const f = (x: Float32Array) => x.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE);
    // Change order every 100 hops; every 7th hop b runs alone (process) and c is left out.
    if (t % 7 === 3) {
      runtime.processMany([c, a], [f(quiet), f(signal)], [outs[2]!, outs[0]!]);
      b.process(f(other));
    } else if (Math.floor(t / 100) % 2 === 0) {
      runtime.processMany([a, b, c], [f(signal), f(other), f(quiet)], outs);
    } else {
      runtime.processMany([b, c, a], [f(other), f(quiet), f(signal)], [outs[1]!, outs[2]!, outs[0]!]);
    }
    audio.set(outs[0]!, t * FRAME_SIZE);
  }
  const err = maxAbsDiff(audio, offline.audio);
  assert.ok(err < TOL, `batched stream max abs error ${err}`);
  for (const s of [a, b, c]) s.close();
});

test('a segment run without its past differs from the same frames inside the whole signal: carried state matters', async () => {
  const short = await dfnOffline(dfnModelDir(), signal.subarray(FRAME_SIZE * 200, FRAME_SIZE * 260));
  const inLong = offline.m.subarray(200 * 32 + 32 * 10, 260 * 32);
  assert.ok(maxAbsDiff(short.m.subarray(32 * 10), inLong) > 0.01);
});
