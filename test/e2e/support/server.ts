// A real hushcast server for browser tests: in-process (buildApp, fast, services
// reachable for assertions) or as a child process (`node --import tsx src/main.ts`,
// for tests that SIGKILL and restart it). Temp DATA_DIR, removed by close().
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Config, PROJECT_ROOT, loadConfig } from '../../../src/config.js';
import { type AppDeps, buildApp } from '../../../src/control/app.js';

export interface StartServerOptions {
  /** Extra environment (DENOISE_ENGINE, MAX_LISTENERS, …). DATA_DIR/PORT/HOST are set by the harness. */
  env?: Record<string, string>;
  /** 'inprocess' (default): buildApp in this process. 'child': src/main.ts in a child process. */
  mode?: 'inprocess' | 'child';
  /** Reuse a data dir (e.g. after a crash); default a fresh temp dir, removed by close(). */
  dataDir?: string;
  /** In-process only: injected dependencies (media plane, bus, …). */
  deps?: AppDeps;
  /** In-process only: config fields to override after loading the env. */
  configOverrides?: Partial<Config>;
  /** Bind address; default HUSHCAST_TEST_IP (the test namespace's veth address) or 127.0.0.1. */
  host?: string;
}

export interface TestServer {
  /** e.g. http://10.203.0.1:41234 — also the Origin that state-changing requests must carry. */
  readonly baseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly mode: 'inprocess' | 'child';
  /** In-process only: the Fastify app (app.services has db, presence, notifier, …). */
  readonly app: FastifyInstance | undefined;
  /** Child only: the process. */
  readonly child: ChildProcess | undefined;
  /** Child only: everything the server printed so far (for failure messages). */
  output(): string;
  /** Child only: sends `signal` and waits for the exit. In-process: closes the app. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts again on the same port and data dir (after stop(), e.g. a SIGKILL crash test). */
  restart(): Promise<void>;
  /** Stops the server (SIGTERM for a child) and removes the temp data dir it created. Safe to call twice. */
  close(): Promise<void>;
}

export function testHost(): string {
  return process.env.HUSHCAST_TEST_IP || '127.0.0.1';
}

export async function startServer(opts: StartServerOptions = {}): Promise<TestServer> {
  const webIndex = path.join(PROJECT_ROOT, 'web', 'dist', 'index.html');
  if (!existsSync(webIndex)) throw new Error(`web app not built (${webIndex} missing): run npm run build:web`);
  const host = opts.host ?? testHost();
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'hushcast-e2e-')));
  const mode = opts.mode ?? 'inprocess';
  const port = await freePort(host);
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // The browser tests sign many users up from one address; the limit has its own tests.
    SIGNUPS_PER_IP_PER_HOUR: '100000',
    ...opts.env,
    DATA_DIR: dataDir,
    HOST: host,
    PORT: String(port),
  };

  let app: FastifyInstance | undefined;
  let closeApp: (() => Promise<void>) | undefined;
  let child: ChildProcess | undefined;
  let output = '';
  let closed = false;

  const start = async (): Promise<void> => {
    if (mode === 'inprocess') {
      const config = loadConfig({ ...process.env, ...env }, opts.configOverrides);
      const built = await buildApp(config, opts.deps);
      await built.app.listen({ host, port });
      app = built.app;
      closeApp = built.close;
      return;
    }
    output = '';
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code, sig) => reject(new Error(`server exited early (code ${code}, signal ${sig}):\n${output.slice(-4000)}`))),
    );
    exited.catch(() => undefined);
    // A guard against a server that never comes up, not a speed check: at load average ~30 on
    // the shared 2-core machine a child took 25 s to answer /api/health (2026-12-07), and the
    // restart in a crash test missed a 30 s deadline three times.
    await Promise.race([waitForHealth(`http://${host}:${port}`, 120_000, () => output), exited]);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (mode === 'inprocess') {
      const c = closeApp;
      closeApp = undefined;
      app = undefined;
      await c?.();
      return;
    }
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };

  try {
    await start();
  } catch (err) {
    // A child that did not come up in time must not outlive the test: nobody holds a handle to
    // stop it, and it would load the machine for every test after this one.
    child?.kill('SIGKILL');
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    baseUrl: `http://${host}:${port}`,
    host,
    port,
    dataDir,
    mode,
    get app() {
      return app;
    },
    get child() {
      return child;
    },
    output: () => output,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await stop();
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port that was free a moment ago on `host` (a child process cannot report back the port it picked). */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(baseUrl: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${baseUrl}/api/health`);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${baseUrl} not healthy after ${timeoutMs} ms (${last}):\n${output().slice(-4000)}`);
}
