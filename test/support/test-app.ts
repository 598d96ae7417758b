// A real hushcast server on a random 127.0.0.1 port with a fresh SQLite file,
// plus a tiny HTTP client with a cookie jar, for integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { type AppDeps, buildApp } from '../../src/control/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { Db } from '../../src/store/db.js';

export interface TestApp {
  app: FastifyInstance;
  base: string;
  db: Db;
  config: Config;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Partial<Config> = {}, deps: AppDeps = {}): Promise<TestApp> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-app-'));
  const config = loadConfig(
    { DATA_DIR: dir, LOG_LEVEL: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'silent', DENOISE_ENGINE: 'none' },
    // Tests sign many users up from 127.0.0.1; the sign-up limit has its own tests.
    { port: 0, host: '127.0.0.1', signupsPerIpPerHour: 100_000, ...overrides },
  );
  // No media plane unless a test brings one: the control-plane tests never stream, and worker threads slow every start.
  const { app, close } = await buildApp(config, { serveWeb: false, media: null, ...deps });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    app,
    base: `http://127.0.0.1:${port}`,
    db: app.services.db,
    config,
    async close() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Res {
  status: number;
  body: any;
  headers: Headers;
}

/** One browser: keeps the session cookie and sends this site's Origin like a page would. */
export class Client {
  cookie = '';
  constructor(
    readonly base: string,
    public origin: string | null = base,
  ) {}

  async request(method: string, url: string, body?: unknown, extra: Record<string, string> = {}): Promise<Res> {
    const headers: Record<string, string> = { ...extra };
    if (this.origin) headers.origin = this.origin;
    if (this.cookie) headers.cookie = this.cookie;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.base + url, { method, headers, body: payload });
    const setCookie = res.headers.getSetCookie();
    for (const c of setCookie) {
      const [pair] = c.split(';');
      const [name, value] = pair!.split('=');
      if (name === 'hc_session') this.cookie = value ? `hc_session=${value}` : '';
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: keep the text for the assertion message */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  get(url: string) {
    return this.request('GET', url);
  }
  post(url: string, body: unknown = {}) {
    return this.request('POST', url, body);
  }
  delete(url: string) {
    return this.request('DELETE', url);
  }

  async signup(username: string, password = 'correct horse battery'): Promise<Res> {
    const r = await this.post('/api/auth/signup', { username, password });
    if (r.status !== 201) throw new Error(`signup ${username} failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  /** Opens /ws with this client's cookie and Origin; messages are queued for `next()`. */
  async socket(): Promise<TestSocket> {
    const ws = new WebSocket(this.base.replace(/^http/, 'ws') + '/ws', {
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(this.origin ? { origin: this.origin } : {}) },
    });
    const s = new TestSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return s;
  }
}

export class TestSocket {
  readonly messages: any[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.messages.push(JSON.parse(d.toString()));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
        this.wake();
      }),
    );
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for (and removes) the first queued message matching `pred`. */
  async next(pred: (m: any) => boolean = () => true, timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Proves a negative: after a round trip through the server (ping → pong) nothing matching `pred` has arrived. */
  async assertNone(pred: (m: any) => boolean): Promise<void> {
    this.send({ type: 'ping' });
    await this.next((m) => m.type === 'pong');
    const bad = this.messages.find(pred);
    if (bad) throw new Error(`unexpected message ${JSON.stringify(bad)}`);
  }

  send(msg: unknown) {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  async close() {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close();
    await this.closed;
  }
}

/** Every row of every table, to prove a refused action changed nothing. */
export async function snapshot(db: Db): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of ['users', 'sessions', 'friendships', 'friend_requests', 'stream_recordings', 'active_streams'] as const) {
    out[t] = await db.selectFrom(t).selectAll().orderBy('id').execute();
  }
  return out;
}
