import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FRAME_SIZE } from '../../src/denoise/denoiser.js';
import { type Dfn3Runtime, loadDfn3Runtime } from '../../src/denoise/dfn/runtime.js';
import { dfnModelDir, loadSharedAudio } from '../support/dfn-audio.js';

let runtime: Dfn3Runtime;
let signal: Float32Array;
const HOPS = 150;

before(async () => {
  runtime = await loadDfn3Runtime(dfnModelDir(), { initialCapacity: 2 });
  signal = (await loadSharedAudio('noisy_snr0.wav')).subarray(0, HOPS * FRAME_SIZE);
});
after(async () => {
  await runtime?.close();
});

const hop = (x: Float32Array, t: number) => x.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE);

test('dfn3 streams report a latency of 3 frames (STFT hop + 2 hops lookahead)', () => {
  const s = runtime.createStream({ attenLimDb: null });
  assert.equal(s.engine, 'dfn3');
  assert.equal(s.latencyFrames, 3);
  s.close();
});

test('setParams({attenLimDb: 0}) takes effect on the next hop: from then on the input passes through, delayed', () => {
  const s = runtime.createStream({ attenLimDb: null });
  const ref = runtime.createStream({ attenLimDb: null });
  const change = 60;
  const d = 3;
  for (let t = 0; t < change; t++) {
    s.process(hop(signal, t));
    ref.process(hop(signal, t));
  }
  s.setParams({ attenLimDb: 0 });
  const first = Float32Array.from(s.process(hop(signal, change)));
  const unchanged = ref.process(hop(signal, change));
  assert.notDeepEqual(first, Float32Array.from(unchanged), 'the very next hop already differs');
  for (let t = change + 1; t < change + 20; t++) {
    const y = s.process(hop(signal, t));
    const x = hop(signal, t - d);
    for (let i = 0; i < FRAME_SIZE; i++) assert.ok(Math.abs(y[i]! - x[i]!) < 1e-5);
  }
  s.close();
  ref.close();
});

test('reset() makes a stream behave like a freshly created one', () => {
  const a = runtime.createStream({ attenLimDb: null });
  for (let t = 0; t < 40; t++) a.process(hop(signal, t));
  a.reset();
  const b = runtime.createStream({ attenLimDb: null });
  for (let t = 0; t < 40; t++) assert.deepEqual(Float32Array.from(a.process(hop(signal, t))), Float32Array.from(b.process(hop(signal, t))));
  a.close();
  b.close();
});

test('processMany over 20 streams (arenas grow past their initial 2 slots) equals processing each stream alone', () => {
  const n = 20;
  const batched = Array.from({ length: n }, () => runtime.createStream({ attenLimDb: null }));
  const alone = Array.from({ length: n }, () => runtime.createStream({ attenLimDb: null }));
  const inputs = Array.from({ length: n }, (_, k) => signal.map((v) => v * (0.2 + k / n)));
  const outs = Array.from({ length: n }, () => new Float32Array(FRAME_SIZE));
  let maxErr = 0;
  for (let t = 0; t < 60; t++) {
    runtime.processMany(batched, inputs.map((x) => hop(x, t)), outs);
    for (let k = 0; k < n; k++) {
      const y = alone[k]!.process(hop(inputs[k]!, t));
      for (let i = 0; i < FRAME_SIZE; i++) maxErr = Math.max(maxErr, Math.abs(y[i]! - outs[k]![i]!));
    }
  }
  assert.ok(maxErr < 1e-5, `max abs difference ${maxErr}`);
  for (const s of [...batched, ...alone]) s.close();
});

test('processMany refuses closed, duplicated or foreign streams and frames of the wrong size, with clear errors', () => {
  const a = runtime.createStream({ attenLimDb: null });
  const b = runtime.createStream({ attenLimDb: null });
  const f = new Float32Array(FRAME_SIZE);
  const o = [new Float32Array(FRAME_SIZE), new Float32Array(FRAME_SIZE)];
  assert.throws(() => runtime.processMany([a, a], [f, f], o), /appears twice/);
  assert.throws(() => runtime.processMany([a, b], [f, new Float32Array(100)], o), /480 samples/);
  b.close();
  b.close(); // idempotent
  assert.throws(() => runtime.processMany([a, b], [f, f], o), /open dfn3 stream/);
  assert.throws(() => b.process(f), /closed/);
  a.close();
});

test('NaN or infinite input samples are treated as silence and never poison the stream', () => {
  const s = runtime.createStream({ attenLimDb: null });
  for (let t = 0; t < 20; t++) s.process(hop(signal, t));
  const bad = Float32Array.from(hop(signal, 20));
  bad[10] = Number.NaN;
  bad[11] = Number.POSITIVE_INFINITY;
  s.process(bad);
  for (let t = 21; t < 40; t++) {
    const y = s.process(hop(signal, t));
    assert.ok(y.every(Number.isFinite), `hop ${t} is finite`);
  }
  assert.equal(s.recoveries, 0);
  s.close();
});

test('batching pays: a 16-stream processMany costs well under 16 single-stream hops (CPU ratio, same run)', () => {
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const one = runtime.createStream({ attenLimDb: null });
  const many = Array.from({ length: 16 }, () => runtime.createStream({ attenLimDb: null }));
  const outs = many.map(() => new Float32Array(FRAME_SIZE));
  for (let t = 0; t < 10; t++) {
    one.process(hop(signal, t));
    runtime.processMany(many, many.map(() => hop(signal, t)), outs);
  }
  let c = cpu();
  for (let t = 0; t < 120; t++) one.process(hop(signal, t % HOPS));
  const single = (cpu() - c) / 120;
  c = cpu();
  for (let t = 0; t < 24; t++) runtime.processMany(many, many.map(() => hop(signal, t)), outs);
  const perStream = (cpu() - c) / 24 / 16;
  assert.ok(perStream < 0.75 * single, `per stream ${perStream.toFixed(0)} µs batched vs ${single.toFixed(0)} µs alone`);
  for (const s of [one, ...many]) s.close();
});
