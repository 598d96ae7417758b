// `npm start`'s entry point as a real child process: serves the built web app
// with SPA fallback, keeps a generated SESSION_SECRET across restarts, speaks
// HTTPS when given a certificate, and exits cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PROJECT_ROOT } from '../../src/config.js';
import { Client } from '../support/test-app.js';
import { freePort } from '../support/redis-server.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'hc-main-'));
  dirs.push(d);
  return d;
}

/** How the process ended; a clean shutdown is {code: 0, signal: null} (a crash in native code shows as signal SIGSEGV). */
type Exit = { code: number | null; signal: NodeJS.Signals | null };
const CLEAN: Exit = { code: 0, signal: null };

async function startMain(env: Record<string, string>): Promise<{ child: ChildProcess; exited: Promise<Exit> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', DENOISE_ENGINE: 'none', REDIS_URL: '', SESSION_SECRET: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('Server listening')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((e) => reject(new Error(`main exited early (${JSON.stringify(e)}):\n${out}`)));
    setTimeout(() => reject(new Error(`main did not start within 30 s:\n${out}`)), 30_000).unref();
  });
  return { child, exited };
}

test('serves the web app with SPA fallback, keeps API 404s as JSON, and a SIGTERM exits 0', async () => {
  const dir = tempDir();
  const port = await freePort();
  const { child, exited } = await startMain({ DATA_DIR: dir, PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  const index = await fetch(`${base}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type')!, /text\/html/);
  const indexHtml = await index.text();
  const deep = await fetch(`${base}/friends/somebody`);
  assert.equal(deep.status, 200);
  assert.equal(await deep.text(), indexHtml, 'client-side routes get index.html');
  const api = await fetch(`${base}/api/no/such/thing`);
  assert.equal(api.status, 404);
  assert.equal(((await api.json()) as any).error.code, 'NOT_FOUND');
  const asset = indexHtml.match(/(?:src|href)="(\/assets\/[^"]+)"/);
  if (asset) assert.equal((await fetch(base + asset[1])).status, 200);
  child.kill('SIGTERM');
  assert.deepEqual(await exited, CLEAN);
});

test('a generated SESSION_SECRET is stored with mode 0600 and a session survives a restart', async () => {
  const dir = tempDir();
  const port = await freePort();
  let run = await startMain({ DATA_DIR: dir, PORT: String(port) });
  const secretFile = path.join(dir, 'session-secret');
  assert.equal(statSync(secretFile).mode & 0o777, 0o600);
  const secret = readFileSync(secretFile, 'utf8');
  const c = new Client(`http://127.0.0.1:${port}`);
  await c.signup('restart_me');
  run.child.kill('SIGTERM');
  assert.deepEqual(await run.exited, CLEAN);
  run = await startMain({ DATA_DIR: dir, PORT: String(port) });
  assert.equal(readFileSync(secretFile, 'utf8'), secret);
  assert.equal((await c.get('/api/auth/me')).status, 200);
  run.child.kill('SIGINT');
  assert.deepEqual(await run.exited, CLEAN);
});

test('with TLS_CERT_FILE and TLS_KEY_FILE it serves HTTPS and the session cookie is Secure', async () => {
  const dir = tempDir();
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const port = await freePort();
  const { child, exited } = await startMain({ DATA_DIR: dir, PORT: String(port), TLS_CERT_FILE: cert, TLS_KEY_FILE: key });
  const body = JSON.stringify({ username: 'tls_user', password: 'amber-lantern-42' });
  const res = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path: '/api/auth/signup', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', origin: `https://127.0.0.1:${port}` } },
      (r) => {
        r.resume();
        r.on('end', () => resolve({ status: r.statusCode!, cookie: String(r.headers['set-cookie'] ?? '') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(res.status, 201);
  assert.match(res.cookie, /; Secure/);
  child.kill('SIGTERM');
  assert.deepEqual(await exited, CLEAN);
});
