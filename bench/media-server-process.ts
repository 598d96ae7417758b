// The server side of the media benchmarks, in its own process so that its CPU
// time (main thread + media workers) is measured apart from the client peers.
// Driven over the fork IPC channel by bench/fanout.ts and bench/streams.ts.
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config.js';
import type { StartSessionOptions } from '../src/media/media-plane.js';
import { createMediaPlane, type WorkerPoolMediaPlane } from '../src/media/workers/worker-pool.js';

type Command =
  | { cmd: 'start'; overrides: Partial<Config> }
  | { cmd: 'startSession'; opts: StartSessionOptions }
  | { cmd: 'answer'; sessionId: string; sdp: string }
  | { cmd: 'listen'; sessionId: string; listenerId: string; sdp: string }
  | { cmd: 'stats'; reset: boolean }
  | { cmd: 'stop'; sessionId: string }
  | { cmd: 'close' };

export interface ServerStats {
  /** CPU time of the whole server process (all threads), µs. */
  cpuUs: number;
  wallMs: number;
  workers: Awaited<ReturnType<WorkerPoolMediaPlane['workerStats']>>;
}

/** Client handle on a forked server process. */
export class MediaServerProcess {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.child = fork(fileURLToPath(import.meta.url), ['serve'], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE_DIR] : []), ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`server process exited (${code})`));
      this.pending.clear();
    });
  }

  call<T>(command: Command): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, ...command });
    });
  }

  async close(): Promise<void> {
    await this.call({ cmd: 'close' }).catch(() => {});
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** Environment variables the bench server takes over from the bench's own environment. */
const MEDIA_ENV = ['DFN_MODEL_DIR', 'MEDIA_WORKERS', 'MEDIA_RT_PRIORITY'] as const;

async function serve(): Promise<void> {
  let plane: WorkerPoolMediaPlane | null = null;
  const log = { debug() {}, info() {}, warn() {}, error: (o: object, m: string) => console.error('[server]', m, o) };
  const run = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'start': {
        // The media plane's own settings come from the environment as in the server (A/B runs).
        const env: Record<string, string | undefined> = { DATA_DIR: '/tmp/hushcast-bench', LOG_LEVEL: 'warn' };
        for (const k of MEDIA_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
        const config = loadConfig(env, c.overrides);
        plane = await createMediaPlane(config, log);
        return plane.engineStatus();
      }
      case 'startSession':
        return plane!.startSession(c.opts);
      case 'answer':
        return plane!.answerBroadcaster(c.sessionId, c.sdp);
      case 'listen':
        return plane!.addListener(c.sessionId, c.listenerId, c.sdp);
      case 'stats': {
        const workers = await plane!.workerStats(c.reset);
        const cpu = process.cpuUsage();
        return { cpuUs: cpu.user + cpu.system, wallMs: performance.now(), workers } satisfies ServerStats;
      }
      case 'stop':
        return plane!.stopSession(c.sessionId, 'stopped');
      case 'close':
        await plane?.close();
        setImmediate(() => process.exit(0));
        return null;
    }
  };
  process.on('message', (m: { id: number } & Command) => {
    run(m).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (err: unknown) => process.send!({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

if (process.argv[2] === 'serve') void serve();
