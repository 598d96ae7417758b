// Starts a throw-away PostgreSQL server (Debian's `postgresql` package) for the
// store tests and the cluster tests: initdb into a temporary folder, postgres on
// a free 127.0.0.1 port and a private unix-socket folder, no fsync. PostgreSQL
// refuses to run as root, so under root both run as the `postgres` user the
// package creates. `createDatabase()` gives each test a fresh, empty database.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './redis-server.js';

export interface RunningPostgres {
  /** URL of the server's `postgres` database (for admin statements). */
  adminUrl: string;
  port: number;
  /** Creates a new empty database and returns its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const INSTALL = 'PostgreSQL not found: install it with `sudo apt-get install postgresql` (test/system-deps.sh does this as root)';

/** The newest /usr/lib/postgresql/<version>/bin that has initdb and postgres. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(INSTALL);
  return path.join(root, versions[0]!, 'bin');
}

/** uid/gid of the `postgres` user when we are root (PostgreSQL will not run as root); undefined otherwise. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`${INSTALL} (no postgres user)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

const running = new Set<ChildProcess>();
// A test file that ends early (--test-force-exit, a failed before hook) must not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startPostgresServer(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const user = runAs();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-pg-'));
  const dataDir = path.join(dir, 'data');
  const socketDir = path.join(dir, 'sock');
  mkdirSync(socketDir);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(socketDir, user.uid, user.gid);
  }
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  const init = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '--encoding=UTF8', '--locale=C'],
    { encoding: 'utf8', env, cwd: dir, ...user },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.error?.message}):\n${init.stdout}\n${init.stderr}`);
  }
  const port = await freePort();
  const child = spawn(
    path.join(bin, 'postgres'),
    [
      '-D', dataDir,
      '-p', String(port),
      '-k', socketDir,
      '-c', 'listen_addresses=127.0.0.1',
      // Throw-away data: no durability work (the machine is shared with other test runs).
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: dir, ...user },
  );
  running.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      running.delete(child);
      resolve();
    }),
  );
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilAccepting(adminUrl, exited, 30_000).catch((err: Error) => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postgres did not start on port ${port}: ${err.message}\n${output}`);
  });
  let databases = 0;
  return {
    adminUrl,
    port,
    async createDatabase() {
      const name = `hc_${++databases}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // SIGINT = PostgreSQL's "fast shutdown": open sessions are ended, no waiting for clients.
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until a client can run a query (postgres accepts TCP before it accepts sessions). */
async function waitUntilAccepting(url: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead) throw new Error('postgres exited');
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`timed out: ${(err as Error).message}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
