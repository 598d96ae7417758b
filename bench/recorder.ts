// Recorder costs on this machine: time per 10 ms hop in WavRecorder.write (the
// media hot path), flush cost, memory over an hour of audio, repair and peaks
// of a 10-minute file. Prints numbers; writes bench/results/recorder.json.
//   npx tsx bench/recorder.ts
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROJECT_ROOT } from '../src/config.js';
import { WavRecorder } from '../src/media/recorder.js';
import { wavPeaks } from '../src/media/wav-peaks.js';
import { repairWav } from '../src/media/wav-repair.js';

const RATE = 48_000;
const HOP = 480;
const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-bench-rec-'));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const hop = new Float32Array(HOP);
  for (let i = 0; i < HOP; i++) hop[i] = Math.sin(i / 7) * 0.5;

  // 1. Per-hop cost over 10 minutes of audio (60 000 hops; every 50th hop flushes).
  const file10 = path.join(dir, 'ten-minutes.wav');
  const rec = WavRecorder.open(file10, RATE);
  const times: number[] = new Array(60_000);
  for (let k = 0; k < 60_000; k++) {
    const t = performance.now();
    rec.write(hop);
    times[k] = (performance.now() - t) * 1000;
  }
  const closeStart = performance.now();
  const result = rec.close();
  const closeMs = performance.now() - closeStart;
  const flushHops = times.filter((_, k) => (k + 1) % 50 === 0).sort((a, b) => a - b);
  const plainHops = times.filter((_, k) => (k + 1) % 50 !== 0).sort((a, b) => a - b);

  // 2. Memory over one hour of audio.
  const rec1h = WavRecorder.open(path.join(dir, 'one-hour.wav'), RATE);
  const rss0 = process.memoryUsage().rss;
  const t1h = performance.now();
  for (let k = 0; k < 360_000; k++) rec1h.write(hop);
  const hourMs = performance.now() - t1h;
  const rssGrowthMb = (process.memoryUsage().rss - rss0) / 1048576;
  rec1h.close();
  rmSync(path.join(dir, 'one-hour.wav'));

  // 3. Repair of a 10-minute file whose header was never finalized, and its waveform peaks.
  // As a crash leaves it: both size fields behind the data (here: never written).
  const sizes = Buffer.alloc(4);
  const fh = await open(file10, 'r+');
  sizes.writeUInt32LE(36, 0);
  await fh.write(sizes, 0, 4, 4);
  sizes.writeUInt32LE(0, 0);
  await fh.write(sizes, 0, 4, 40);
  await fh.close();
  const tr = performance.now();
  const repaired = repairWav(file10);
  const repairMs = performance.now() - tr;
  if (!repaired.changed || repaired.durationMs !== 600_000) throw new Error(`repair did not restore 10 minutes: ${JSON.stringify(repaired)}`);
  const tp = performance.now();
  await wavPeaks(file10, 1000);
  const peaksMs = performance.now() - tp;

  const out = {
    hop_write_us: { p50: percentile(plainHops, 0.5), p99: percentile(plainHops, 0.99), max: plainHops.at(-1) },
    flush_hop_us: { p50: percentile(flushHops, 0.5), p99: percentile(flushHops, 0.99), max: flushHops.at(-1) },
    close_ms: closeMs,
    ten_minutes: { duration_ms: result.durationMs, size_bytes: result.sizeBytes },
    one_hour: { wall_ms: hourMs, rss_growth_mb: rssGrowthMb },
    repair_10min_ms: repairMs,
    peaks_10min_ms: peaksMs,
  };
  const r = (x: number | undefined) => (x ?? NaN).toFixed(1);
  console.log(`write per 10 ms hop: p50 ${r(out.hop_write_us.p50)} µs, p99 ${r(out.hop_write_us.p99)} µs`);
  console.log(`hop that flushes 500 ms (48 KB + header): p50 ${r(out.flush_hop_us.p50)} µs, p99 ${r(out.flush_hop_us.p99)} µs, max ${r(out.flush_hop_us.max)} µs`);
  console.log(`close (flush + header; fsync in the background): ${r(closeMs)} ms`);
  console.log(`one hour of audio: ${r(hourMs)} ms wall, RSS growth ${r(rssGrowthMb)} MB`);
  console.log(`repair of a 10-minute file: ${r(repairMs)} ms; peaks (1000 buckets): ${r(peaksMs)} ms`);
  writeFileSync(path.join(PROJECT_ROOT, 'bench', 'results', 'recorder.json'), JSON.stringify(out, null, 2) + '\n');
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
