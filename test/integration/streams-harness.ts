// A real hushcast server for the streaming tests (real HTTP on a real port,
// real SQLite temp file, real WebSocket clients), plus the HTTP/WS client a
// test drives it with. Not a test file itself.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/control/app.js';
import type { MediaPlane } from '../../src/media/media-plane.js';
import type { SessionStats } from '../../src/media/session/stream-session.js';
import type { WorkerPoolMediaPlane } from '../../src/media/workers/worker-pool.js';
import type { Db } from '../../src/store/db.js';

export interface TestServer {
  app: FastifyInstance;
  config: Config;
  db: Db;
  base: string;
  dir: string;
  close(): Promise<void>;
}

export async function startServer(opts: { media?: MediaPlane; env?: Record<string, string>; host?: string; dir?: string } = {}): Promise<TestServer> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'hc-streams-'));
  const host = opts.host ?? '127.0.0.1';
  // SIGNUPS_PER_IP_PER_HOUR: the tests sign many users up from one address; the limit has its own tests.
  const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', HOST: host, PORT: '0', SIGNUPS_PER_IP_PER_HOUR: '100000', ...opts.env });
  const { app, close } = await buildApp(config, { media: opts.media, serveWeb: false });
  await app.listen({ port: 0, host });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  let closed = false;
  return {
    app,
    config,
    db: app.services.db,
    base: `http://${host}:${address.port}`,
    dir,
    async close() {
      if (closed) return;
      closed = true;
      await close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply<T = any> {
  status: number;
  body: T;
}

/** One signed-in person: cookie jar + JSON requests with this site's Origin. */
export class Client {
  cookie = '';
  username = '';
  private sockets: WsClient[] = [];

  constructor(readonly base: string) {}

  async request<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { origin: this.base, ...headers };
    if (this.cookie) h.cookie = this.cookie;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= typeof body === 'string' ? 'text/plain;charset=UTF-8' : 'application/json';
    }
    const res = await fetch(this.base + url, { method, headers: h, body: payload });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  post<T = any>(url: string, body: unknown = {}, headers?: Record<string, string>): Promise<Reply<T>> {
    return this.request<T>('POST', url, body, headers);
  }

  get<T = any>(url: string): Promise<Reply<T>> {
    return this.request<T>('GET', url);
  }

  async signup(username: string): Promise<this> {
    const r = await this.post('/api/auth/signup', { username, password: 'correct horse battery' });
    if (r.status !== 201) throw new Error(`signup ${username}: ${r.status} ${JSON.stringify(r.body)}`);
    this.username = username;
    return this;
  }

  /** Opens a presence WebSocket and waits for hello. */
  async ws(): Promise<WsClient> {
    const ws = new WsClient(this.base.replace(/^http/, 'ws') + '/ws', { cookie: this.cookie, origin: this.base });
    this.sockets.push(ws);
    await ws.waitFor((m) => m.type === 'hello');
    return ws;
  }

  closeSockets(): void {
    for (const s of this.sockets) s.close();
  }
}

export class WsClient {
  readonly messages: any[] = [];
  private readonly socket: WebSocket;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(url: string, headers: Record<string, string>) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      for (const w of this.waiters) w();
    });
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('error', () => undefined);
  }

  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor(pred: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this.messages.find(pred);
        if (m === undefined) return false;
        cleanup();
        resolve(m);
        return true;
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== onMessage);
      };
      const onMessage = (): void => void check();
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for a message; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.waiters.push(onMessage);
      check();
    });
  }

  close(): Promise<void> {
    this.socket.close();
    return this.closed;
  }
}

/** a sends a friend request, b accepts. */
export async function befriend(a: Client, b: Client): Promise<void> {
  const r = await a.post('/api/friends/requests', { username: b.username });
  if (r.status !== 201) throw new Error(`friend request: ${r.status} ${JSON.stringify(r.body)}`);
  const acc = await b.post(`/api/friends/requests/${r.body.request.id}/accept`);
  if (acc.status !== 200) throw new Error(`accept: ${acc.status} ${JSON.stringify(acc.body)}`);
}

export async function tableCounts(db: Db): Promise<{ active: number; recordings: number }> {
  const active = await db.selectFrom('active_streams').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const recordings = await db.selectFrom('stream_recordings').select(db.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return { active: Number(active.n), recordings: Number(recordings.n) };
}

/** The media worker's own statistics of a live session (null when the worker has no such session). */
export async function workerSessionStats(server: TestServer, sessionId: string): Promise<SessionStats | null> {
  const media = server.app.services.media as WorkerPoolMediaPlane;
  return (await media.workerStats()).flatMap((w) => w.perSession).find((s) => s.sessionId === sessionId) ?? null;
}

/** Audio the media worker has decoded from the broadcaster's packets so far, in ms. */
export async function receivedAudioMs(server: TestServer, sessionId: string): Promise<number> {
  const stats = await workerSessionStats(server, sessionId);
  return stats ? (stats.frames.audio + stats.frames.recovered) * 10 : 0;
}

/** Polls `cond` (for effects that happen after an event, e.g. a WebSocket close reaching the server). */
export async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
