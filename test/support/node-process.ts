// A hushcast node as its own process (`src/main.ts`, what `npm start` runs), for
// cluster tests that kill nodes (SIGKILL, SIGTERM) and restart them.
import { type ChildProcess, spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../src/config.js';
import { freePort } from './redis-server.js';

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  base: string;
  port: number;
  child: ChildProcess;
  exited: Promise<NodeExit>;
  /** Everything the node logged so far (for failure messages). */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<NodeExit>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts a node with `env` on top of quiet test defaults; resolves once it listens. */
export async function startNodeProcess(env: Record<string, string>, port?: number): Promise<NodeProcess> {
  port ??= await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      DENOISE_ENGINE: 'none',
      MEDIA_WORKERS: '1',
      MEDIA_RT_PRIORITY: '0',
      SESSION_SECRET: 'cluster-test-secret-0123456789',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  const exited = new Promise<NodeExit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Server listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((e) => reject(new Error(`node exited early (${JSON.stringify(e)}):\n${out}`)));
    setTimeout(() => reject(new Error(`node did not start within 60 s:\n${out}`)), 60_000).unref();
  });
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    child,
    exited,
    output: () => out,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
