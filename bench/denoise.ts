// npm run bench:denoise — cost of each denoise engine on this machine, per 10 ms hop.
//   rtf               CPU time per stream-hop / 10 ms, one stream alone (process()).
//   hop_p50/p99_ms    wall-clock time of one process() call, one stream alone.
//   batched.{1,8,32,64} a worker's view: all streams' hops in one processMany() call (dfn3) or a
//                     loop of process() (rnnoise); rtf is per stream (amortized), call_p99_ms the
//                     wall time of a whole worker tick.
//   streams_per_core  ⌊1 / best amortized rtf⌋: streams one core keeps up with.
// Writes bench/results/denoise.json. Uses the shared noisy clip when present, else noise.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, loadConfig } from '../src/config.js';
import { readWavTo48kMono } from '../src/denoise/audio-file.js';
import { FRAME_SIZE } from '../src/denoise/denoiser.js';
import type { EngineRuntime } from '../src/denoise/engine-runtime.js';
import { readDfnModel } from '../src/denoise/dfn/model-files.js';
import { loadDfn3Runtime } from '../src/denoise/dfn/runtime.js';
import { SyncSession, tensor } from '../src/denoise/dfn/sync-session.js';
import { loadRnnoiseRuntime } from '../src/denoise/rnnoise.js';

const HOP_MS = 10;
const BATCHES = [1, 8, 32, 64] as const;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}
const round = (x: number, d = 4) => Number(x.toFixed(d));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function loadAudio(): Promise<Float32Array> {
  const shared = process.env.HUSHCAST_SHARED_DIR ?? path.resolve(PROJECT_ROOT, '..', 'shared');
  try {
    return (await readWavTo48kMono(path.join(shared, 'audio', 'noisy_snr0.wav'))).samples;
  } catch {
    console.error('shared audio not found; benchmarking on synthetic noise');
    return Float32Array.from({ length: 48_000 * 10 }, () => (Math.random() - 0.5) * 0.2);
  }
}

function single(runtime: EngineRuntime, audio: Float32Array, hops: number) {
  const s = runtime.createStream({ attenLimDb: null });
  const frames = Math.floor(audio.length / FRAME_SIZE);
  const frame = (t: number) => audio.subarray((t % frames) * FRAME_SIZE, ((t % frames) + 1) * FRAME_SIZE);
  for (let t = 0; t < 100; t++) s.process(frame(t)); // warm-up
  const wall: number[] = [];
  const c0 = cpuMs();
  for (let t = 0; t < hops; t++) {
    const a = performance.now();
    s.process(frame(t));
    wall.push(performance.now() - a);
  }
  const cpu = (cpuMs() - c0) / hops;
  s.close();
  wall.sort((a, b) => a - b);
  return { rtf: round(cpu / HOP_MS), hop_p50_ms: round(percentile(wall, 0.5), 3), hop_p99_ms: round(percentile(wall, 0.99), 3) };
}

function batched(runtime: EngineRuntime, audio: Float32Array, n: number, ticks: number) {
  const streams = Array.from({ length: n }, () => runtime.createStream({ attenLimDb: null }));
  const frames = Math.floor(audio.length / FRAME_SIZE);
  const outs = streams.map(() => new Float32Array(FRAME_SIZE));
  const inputs = streams.map(() => new Float32Array(FRAME_SIZE));
  const tick = (t: number) => {
    for (let i = 0; i < n; i++) {
      const f = (t + i * 37) % frames; // every stream at a different place in the clip
      inputs[i]!.set(audio.subarray(f * FRAME_SIZE, (f + 1) * FRAME_SIZE));
    }
    if (runtime.processMany) runtime.processMany(streams, inputs, outs);
    else for (let i = 0; i < n; i++) outs[i]!.set(streams[i]!.process(inputs[i]!));
  };
  for (let t = 0; t < 20; t++) tick(t);
  const wall: number[] = [];
  const c0 = cpuMs();
  for (let t = 0; t < ticks; t++) {
    const a = performance.now();
    tick(t);
    wall.push(performance.now() - a);
  }
  const perStream = (cpuMs() - c0) / ticks / n;
  for (const s of streams) s.close();
  wall.sort((a, b) => a - b);
  return { rtf: round(perStream / HOP_MS), per_stream_ms: round(perStream), call_p50_ms: round(percentile(wall, 0.5), 3), call_p99_ms: round(percentile(wall, 0.99), 3) };
}

async function benchEngine(name: string, runtime: EngineRuntime, audio: Float32Array) {
  const s = single(runtime, audio, 2000);
  const b: Record<string, ReturnType<typeof batched>> = {};
  for (const n of BATCHES) b[String(n)] = batched(runtime, audio, n, Math.max(40, Math.round(3000 / n)));
  const best = Math.min(...Object.values(b).map((x) => x.rtf));
  const result = { ...s, amortized_rtf: best, streams_per_core: Math.floor(1 / best), batched: b };
  console.log(`${name}: rtf ${s.rtf} (one stream), hop p50 ${s.hop_p50_ms} ms, p99 ${s.hop_p99_ms} ms; amortized rtf ${best} → ${result.streams_per_core} streams/core`);
  for (const [k, v] of Object.entries(b)) console.log(`  ${k.padStart(2)} streams/tick: rtf ${v.rtf}/stream, tick p50 ${v.call_p50_ms} ms, p99 ${v.call_p99_ms} ms`);
  await runtime.close();
  return result;
}

/**
 * The model's compute floor on this machine, in the same run: the three UNMODIFIED graphs over
 * 100 frames of one stream (no per-call overhead, time-batched GEMMs), CPU ms per frame.
 */
async function dfn3Floor(modelDir: string): Promise<number> {
  const files = await readDfnModel(modelDir);
  const enc = new SyncSession(files.graphs['enc.onnx']);
  const erb = new SyncSession(files.graphs['erb_dec.onnx']);
  const df = new SyncSession(files.graphs['df_dec.onnx']);
  const S = 100;
  const feeds = {
    feat_erb: tensor(Float32Array.from({ length: S * 32 }, () => Math.random() - 0.5), [1, 1, S, 32]),
    feat_spec: tensor(Float32Array.from({ length: S * 192 }, () => Math.random() - 0.5), [1, 2, S, 96]),
  };
  const once = () => {
    const e = enc.runAlloc(feeds, ['e0', 'e1', 'e2', 'e3', 'emb', 'c0', 'lsnr']);
    erb.runAlloc({ emb: e.emb!, e3: e.e3!, e2: e.e2!, e1: e.e1!, e0: e.e0! }, ['m']);
    df.runAlloc({ emb: e.emb!, c0: e.c0! }, ['coefs']);
  };
  for (let i = 0; i < 3; i++) once();
  const runs = 20;
  const c0 = cpuMs();
  for (let i = 0; i < runs; i++) once();
  const perFrame = (cpuMs() - c0) / runs / S;
  for (const s of [enc, erb, df]) s.close();
  return round(perFrame);
}

async function main(): Promise<void> {
  const audio = await loadAudio();
  const config = loadConfig();
  const results: Record<string, unknown> = {
    machine: { cpus: (await import('node:os')).cpus()[0]?.model ?? 'unknown', load_avg_1m: round((await import('node:os')).loadavg()[0]!, 2) },
  };
  const floor = await dfn3Floor(config.dfnModelDir);
  const dfn3 = await benchEngine('dfn3', await loadDfn3Runtime(config.dfnModelDir), audio);
  const best = Math.min(...Object.values(dfn3.batched).map((b) => b.per_stream_ms));
  console.log(`dfn3 compute floor (100 frames in one call): ${floor} ms/frame; best amortized stream-hop ${best} ms = ${(best / floor).toFixed(2)}× the floor`);
  results.dfn3 = { ...dfn3, floor_ms_per_frame: floor, amortized_over_floor: round(best / floor, 2) };
  results.rnnoise = await benchEngine('rnnoise', await loadRnnoiseRuntime(), audio);
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'denoise.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, 'denoise.json')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
