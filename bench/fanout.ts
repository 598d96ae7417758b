// npm run bench:fanout — 1 broadcaster → N werift listeners (1, 10, 100, 300)
// per engine: server CPU (% of one core, whole server process), packets lost
// at the listeners, and server-added latency (RTP packet in → first RTP packet
// out carrying its audio) p50/p95. Writes bench/results/fanout.json.
//   BENCH_LISTENERS=1,10,100,300 BENCH_ENGINES=rnnoise,none BENCH_SECONDS=10
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DenoiseEngineName } from '../src/config.js';
import { BenchBroadcaster, BenchListener, deprioritizeClients, inBatches, PacedSender, preparePackets, withRetry } from './media-bench-peers.js';
import { MediaServerProcess, type ServerStats } from './media-server-process.js';

const counts = (process.env.BENCH_LISTENERS ?? '1,10,100,300').split(',').map(Number);
const engines = (process.env.BENCH_ENGINES ?? 'rnnoise,none').split(',') as DenoiseEngineName[];
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

interface Row {
  cpu_pct: number;
  lost: number;
  expected: number;
  added_p50_ms: number;
  added_p95_ms: number;
  algorithmic_ms: number;
  late_hops: number;
  hops: number;
  hop_busy_p95_ms: number;
  /** 1-minute load average of the machine when the row was measured (2 cores, shared). */
  load_avg: number;
  /** Nice value of the client peers' thread (19: clients yield the cores to the server). */
  client_nice?: number;
}

async function runOne(server: MediaServerProcess, engine: DenoiseEngineName, n: number, packets: Buffer[], seq: number): Promise<Row> {
  const sessionId = `fanout-${engine}-${n}-${seq}`;
  await server.call({
    cmd: 'startSession',
    opts: { sessionId, ownerId: 1, ownerName: 'bench', engine, denoise: { attenLimDb: null }, recording: null, maxListeners: 10_000 },
  });
  const sender = new PacedSender(packets);
  const b = new BenchBroadcaster();
  const listeners: BenchListener[] = [];
  try {
    await b.connect((sdp) => server.call({ cmd: 'answer', sessionId, sdp }));
    sender.add(b);
    sender.start();
    let joined = 0;
    await inBatches(Array.from({ length: n }, (_, i) => i), 2, async () => {
      const l = await withRetry(3, async () => {
        const peer = new BenchListener();
        try {
          await peer.connect((sdp) => server.call({ cmd: 'listen', sessionId, listenerId: `l${joined++}`, sdp }));
          return peer;
        } catch (err) {
          await peer.close();
          throw err;
        }
      });
      listeners.push(l);
    });
    await sleep(2000); // let joins and warm-up settle
    for (const l of listeners) l.startCounting();
    const before = await server.call<ServerStats>({ cmd: 'stats', reset: true });
    await sleep(seconds * 1000);
    const after = await server.call<ServerStats>({ cmd: 'stats', reset: false });
    const session = after.workers
      .flatMap((w) => w.perSession as { sessionId: string; addedLatencyMs: { p50: number; p95: number }; algorithmicLatencyMs: number }[])
      .find((s) => s.sessionId === sessionId);
    if (!session) throw new Error('the session ended during the measurement');
    const clock = after.workers.find((w) => w.sessions > 0)!.clock;
    const lost = listeners.reduce((a, l) => a + l.lost(), 0);
    const expected = listeners.reduce((a, l) => a + l.received + l.lost(), 0);
    return {
      cpu_pct: round((100 * (after.cpuUs - before.cpuUs)) / 1000 / (after.wallMs - before.wallMs)),
      lost,
      expected,
      added_p50_ms: session.addedLatencyMs.p50,
      added_p95_ms: session.addedLatencyMs.p95,
      algorithmic_ms: session.algorithmicLatencyMs,
      late_hops: clock.lateHops,
      hops: clock.hops,
      hop_busy_p95_ms: clock.busyP95Ms,
      load_avg: round(os.loadavg()[0]!),
    };
  } finally {
    sender.stop();
    await server.call({ cmd: 'stop', sessionId }).catch(() => {});
    await b.close();
    await inBatches(listeners, 32, (l) => l.close());
  }
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

async function main(): Promise<void> {
  const packets = preparePackets();
  const results: Record<string, Record<string, Row>> = {};
  const server = new MediaServerProcess();
  const clientNice = deprioritizeClients(0);
  console.log(`client peers run at nice ${clientNice}`);
  process.on('SIGINT', () => void server.close().then(() => process.exit(130)));
  try {
    console.log(await server.call({ cmd: 'start', overrides: { mediaWorkers: 1, denoiseEngine: engines[0], noMediaTimeoutMs: 120_000, srtpFastPath: process.env.SRTP_FAST_PATH !== '0' } }));
    let seq = 0;
    for (const engine of engines) {
      results[engine] = {};
      for (const n of counts) {
        let row: Row;
        try {
          row = await runOne(server, engine, n, packets, seq++);
        } catch (err) {
          // Typically the client side (hundreds of werift peers in one process) saturating the machine.
          const error = err instanceof Error ? err.message : String(err);
          console.log(`${engine.padEnd(8)} ${String(n).padStart(4)} listeners: FAILED (${error})`);
          results[engine][String(n)] = { error } as unknown as Row;
          continue;
        }
        results[engine][String(n)] = { ...row, client_nice: clientNice };
        console.log(
          `${engine.padEnd(8)} ${String(n).padStart(4)} listeners: CPU ${row.cpu_pct}% of one core, lost ${row.lost}/${row.expected}, ` +
            `added latency p50 ${row.added_p50_ms} ms p95 ${row.added_p95_ms} ms (+${row.algorithmic_ms} ms engine), ` +
            `late hops ${row.late_hops}/${row.hops}, hop busy p95 ${row.hop_busy_p95_ms} ms, load avg ${row.load_avg}`,
        );
      }
    }
  } finally {
    await server.close();
  }
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'fanout.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
  process.exit(0);
}

await main().catch(async (err) => {
  console.error(err);
  process.exit(1);
});
