// npm run bench:streams — concurrent broadcasters (each with one listener)
// added in steps until the media workers' 10 ms hops stop keeping up; reports
// the largest count per engine. "Keeping up": over a measurement window, no
// worker's hop finished after the next hop was due more than 0.5 % of the time
// and none had to be skipped. Writes bench/results/streams.json.
//   BENCH_ENGINES=rnnoise,none(,dfn3) BENCH_MAX_STREAMS=200 BENCH_SECONDS=4 BENCH_STEPS=25,30,35
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DenoiseEngineName } from '../src/config.js';
import { BenchBroadcaster, BenchListener, deprioritizeClients, inBatches, PacedSender, preparePackets, withRetry } from './media-bench-peers.js';
import { MediaServerProcess, type ServerStats } from './media-server-process.js';

const engines = (process.env.BENCH_ENGINES ?? 'rnnoise,dfn3,none').split(',') as DenoiseEngineName[];
const maxStreams = Number(process.env.BENCH_MAX_STREAMS ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const STEPS = (process.env.BENCH_STEPS?.split(',').map(Number) ?? [2, 4, 6, 8, 10, 12, 16, 20, 25, 30, 32, 35, 40, 50, 60, 80, 100, 120, 140, 160, 200, 250, 300]).filter(
  (s) => s <= maxStreams,
);
const LATE_RATIO = 0.005;
const settleMs = Number(process.env.BENCH_SETTLE_MS ?? 1500);

interface Step {
  streams: number;
  late_hops: number;
  /** Late hops that overlapped a garbage-collection pause of their worker. */
  late_hops_during_gc: number;
  gc_pause_max_ms: number;
  hops: number;
  skipped_hops: number;
  hop_busy_p95_ms: number[];
  hop_busy_max_ms: number[];
  /** Per worker, p95 of the hop's phases (ms): input pull, denoise, deliver (encode + fan-out). */
  hop_phase_p95_ms: { pull: number; denoise: number; deliver: number }[];
  /** Per worker, how late hops started after their due time: p95 and max (ms). */
  hop_start_delay_ms: { p95: number; max: number }[];
  /** How far the latest hop ended past the next hop's deadline, ms (0: none late). */
  max_lateness_ms: number;
  cpu_pct: number;
  /** 1-minute load average of the machine (2 cores, shared) at the end of the step. */
  load_avg: number;
  ok: boolean;
}

interface EngineResult {
  engine: DenoiseEngineName;
  /** Nice value of the client peers' thread (19: clients yield the cores to the server). */
  client_nice?: number;
  max_streams: number;
  first_late_hop_at: number | null;
  steps: Step[];
}

async function runEngine(server: MediaServerProcess, engine: DenoiseEngineName, packets: Buffer[]): Promise<EngineResult | null> {
  const peers: { b: BenchBroadcaster; l: BenchListener }[] = [];
  const sender = new PacedSender(packets);
  const result: EngineResult = { engine, max_streams: 0, first_late_hop_at: null, steps: [] };
  try {
    await server.call({ cmd: 'start', overrides: { denoiseEngine: engine, noMediaTimeoutMs: 120_000, srtpFastPath: process.env.SRTP_FAST_PATH !== '0' } });
    sender.start();
    let n = 0;
    for (const target of STEPS) {
      const fresh: number[] = [];
      for (; n < target; n++) fresh.push(n);
      await inBatches(fresh, 4, async (i) => {
        let attempt = 0;
        const pair = await withRetry(3, async () => {
          const sessionId = `streams-${engine}-${i}-${attempt++}`;
          const started = await server.call<{ engine: DenoiseEngineName }>({
            cmd: 'startSession',
            opts: { sessionId, ownerId: i, ownerName: `u${i}`, engine, denoise: { attenLimDb: null }, recording: null, maxListeners: 10 },
          });
          if (started.engine !== engine) throw new EngineUnavailable(`${engine} not available (runs ${started.engine})`);
          const b = new BenchBroadcaster();
          const l = new BenchListener();
          try {
            await b.connect((sdp) => server.call({ cmd: 'answer', sessionId, sdp }));
            await l.connect((sdp) => server.call({ cmd: 'listen', sessionId, listenerId: 'l', sdp }));
            return { b, l };
          } catch (err) {
            await server.call({ cmd: 'stop', sessionId }).catch(() => {});
            await b.close();
            await l.close();
            throw err;
          }
        });
        sender.add(pair.b);
        peers.push(pair);
      });
      await sleep(settleMs); // joins (DTLS handshakes, and the garbage they leave) settle before measuring
      const before = await server.call<ServerStats>({ cmd: 'stats', reset: true });
      await sleep(seconds * 1000);
      const after = await server.call<ServerStats>({ cmd: 'stats', reset: false });
      const late = after.workers.reduce((a, w) => a + w.clock.lateHops, 0);
      const lateDuringGc = after.workers.reduce((a, w) => a + w.clock.lateHopsDuringGc, 0);
      const hops = after.workers.reduce((a, w) => a + w.clock.hops, 0);
      const skipped = after.workers.reduce((a, w) => a + w.clock.skippedHops, 0);
      const step: Step = {
        streams: target,
        late_hops: late,
        late_hops_during_gc: lateDuringGc,
        gc_pause_max_ms: Math.max(...after.workers.map((w) => Math.round(w.clock.gcPauseMaxMs * 10) / 10)),
        hops,
        skipped_hops: skipped,
        hop_busy_p95_ms: after.workers.map((w) => w.clock.busyP95Ms),
        hop_busy_max_ms: after.workers.map((w) => w.clock.busyMaxMs),
        hop_phase_p95_ms: after.workers.map((w) => ({ pull: w.phases.pull.p95, denoise: w.phases.denoise.p95, deliver: w.phases.deliver.p95 })),
        hop_start_delay_ms: after.workers.map((w) => ({ p95: w.clock.startDelayP95Ms, max: Math.round(w.clock.startDelayMaxMs * 10) / 10 })),
        max_lateness_ms: Math.max(...after.workers.map((w) => w.clock.maxLatenessMs)),
        cpu_pct: Math.round((1000 * (after.cpuUs - before.cpuUs)) / 1000 / (after.wallMs - before.wallMs)) / 10,
        load_avg: Math.round(os.loadavg()[0]! * 10) / 10,
        ok: skipped === 0 && late <= hops * LATE_RATIO,
      };
      result.steps.push(step);
      if (late > 0 && result.first_late_hop_at === null) result.first_late_hop_at = target;
      console.log(
        `${engine.padEnd(8)} ${String(target).padStart(4)} streams: late hops ${late}/${hops} (${lateDuringGc} during GC, longest GC ${step.gc_pause_max_ms} ms), skipped ${skipped}, ` +
          `hop busy p95 ${step.hop_busy_p95_ms.map((v) => v.toFixed(2)).join('/')} ms (max ${step.hop_busy_max_ms.map((v) => v.toFixed(1)).join('/')}; ` +
          `pull/denoise/deliver p95 ${step.hop_phase_p95_ms.map((p) => `${p.pull.toFixed(2)}/${p.denoise.toFixed(2)}/${p.deliver.toFixed(2)}`).join(', ')}; ` +
          `start delay p95 ${step.hop_start_delay_ms.map((d) => `${d.p95.toFixed(2)} max ${d.max}`).join(', ')}), ` +
          `server CPU ${step.cpu_pct}% of one core, load avg ${step.load_avg} → ${step.ok ? 'ok' : 'MISSED'}`,
      );
      if (!step.ok) break;
      result.max_streams = target;
    }
    return result;
  } catch (err) {
    if (err instanceof EngineUnavailable) {
      console.log(`${engine}: skipped, ${err.message}`);
      return null;
    }
    throw err;
  } finally {
    sender.stop();
    await server.close();
    await inBatches(peers, 32, async ({ b, l }) => {
      await b.close();
      await l.close();
    });
  }
}

class EngineUnavailable extends Error {
  override name = 'EngineUnavailable';
}

async function main(): Promise<void> {
  const packets = preparePackets();
  const results: Record<string, EngineResult> = {};
  // One server process per engine, all forked before the clients lower their priority.
  const servers = engines.map(() => new MediaServerProcess());
  const clientNice = deprioritizeClients(19);
  console.log(`client peers run at nice ${clientNice}`);
  for (const [i, engine] of engines.entries()) {
    const r = await runEngine(servers[i]!, engine, packets);
    if (r) {
      results[engine] = { ...r, client_nice: clientNice };
      console.log(`${engine}: ${r.max_streams} concurrent streams kept every hop on time`);
    }
  }
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'streams.json');
  mkdirSync(path.dirname(out), { recursive: true });
  // Engines not run this time keep their previous results.
  const previous: Record<string, EngineResult> = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  writeFileSync(out, JSON.stringify({ ...previous, ...results }, null, 2) + '\n');
  console.log(`wrote ${out}`);
  process.exit(0);
}

await main().catch((err) => {
  console.error(err);
  process.exit(1);
});
