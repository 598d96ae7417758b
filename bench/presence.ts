// Presence fan-out latency: N users (default 1,000), each with 20 friends,
// one WebSocket each, against a server in a child process. Measures the time
// from a status change — a user's socket closing, a socket opening, or a
// streaming_status publish — to its arrival at every friend's socket: first
// one change at a time, then bursts of 50 users going offline and back at once.
//
//   npm run bench:presence                 in-memory bus, 1,000 users
//   npm run bench:presence -- --users 300  fewer users (or BENCH_USERS=300)
//   npm run bench:presence -- --redis      also run with the Redis bus (starts redis-server)
//
// Prints p50/p99/max in ms and writes bench/results/presence.json.
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { PROJECT_ROOT } from '../src/config.js';
import { hashPassword } from '../src/control/auth.js';
import { signSessionId } from '../src/control/session-cookie.js';
import { openDatabase } from '../src/store/db.js';
import { freePort, startRedisServer } from '../test/support/redis-server.js';

const { values } = parseArgs({
  options: {
    users: { type: 'string' },
    friends: { type: 'string', default: '20' },
    events: { type: 'string', default: '150' },
    redis: { type: 'boolean', default: false },
  },
});
const USERS = Number(values.users ?? process.env.BENCH_USERS ?? 1000);
const FRIENDS = Number(values.friends);
/** Status changes per kind (close, open, streaming). */
const EVENTS = Number(values.events);
/** Simultaneous status changes per burst round, and rounds. */
const BURST = Math.min(50, Math.floor(USERS / (FRIENDS + 1)));
const BURST_ROUNDS = 5;
if (!(USERS > FRIENDS + 1) || FRIENDS % 2 !== 0) throw new Error('need --users > --friends + 1 and an even --friends');

const now = () => performance.timeOrigin + performance.now();

interface Percentiles {
  samples: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Top level: one status change at a time (close, open, streaming). `burst`: BURST users changing at the same moment. */
interface Stats extends Percentiles {
  users: number;
  friends_per_user: number;
  by_kind: Record<string, Percentiles>;
  burst: Percentiles & { simultaneous_changes: number; by_kind: Record<string, Percentiles> };
  connect_all_s: number;
}

async function run(bus: 'memory' | 'redis'): Promise<Stats> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-bench-presence-'));
  const redis = bus === 'redis' ? await startRedisServer() : null;
  let child: ChildProcess | null = null;
  const sockets: WebSocket[] = [];
  try {
    const secret = randomBytes(32).toString('base64url');
    const dbUrl = `sqlite:${path.join(dir, 'bench.db')}`;

    // Users, friendships (a ring: i is friends with i±1..i±FRIENDS/2) and sessions, straight into the store.
    const db = await openDatabase(dbUrl);
    const hash = await hashPassword('bench-password');
    const created = new Date().toISOString();
    const expires = new Date(Date.now() + 86_400_000).toISOString();
    const names = Array.from({ length: USERS }, (_, i) => `bench${i}`);
    const cookies: string[] = [];
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < USERS; i += 200) {
        await trx.insertInto('users').values(names.slice(i, i + 200).map((username) => ({ username, password_hash: hash, created_at: created }))).execute();
      }
      const pairs: Array<{ user_low: number; user_high: number; created_at: string }> = [];
      for (let i = 0; i < USERS; i++) {
        for (let k = 1; k <= FRIENDS / 2; k++) {
          const a = i + 1;
          const b = ((i + k) % USERS) + 1;
          pairs.push({ user_low: Math.min(a, b), user_high: Math.max(a, b), created_at: created });
        }
      }
      for (let i = 0; i < pairs.length; i += 300) await trx.insertInto('friendships').values(pairs.slice(i, i + 300)).execute();
      const sessions = names.map((_, i) => ({ id: randomBytes(32).toString('base64url'), user_id: i + 1, created_at: created, expires_at: expires }));
      for (let i = 0; i < sessions.length; i += 200) await trx.insertInto('sessions').values(sessions.slice(i, i + 200)).execute();
      for (const s of sessions) cookies.push(`hc_session=${encodeURIComponent(signSessionId(secret, s.id))}`);
    });
    await db.destroy();
    const friendsOf = (i: number) => {
      const out: number[] = [];
      for (let k = 1; k <= FRIENDS / 2; k++) out.push((i + k) % USERS, (i - k + USERS) % USERS);
      return out;
    };

    const port = await freePort();
    child = fork(path.join(PROJECT_ROOT, 'bench', 'presence-server.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATA_DIR: dir, DATABASE_URL: dbUrl, PORT: String(port), HOST: '127.0.0.1', SESSION_SECRET: secret, LOG_LEVEL: 'warn', DENOISE_ENGINE: 'none', REDIS_URL: redis?.url ?? '' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ port: number; bus: string }>((resolve, reject) => {
      child!.once('message', (m) => resolve(m as { port: number; bus: string }));
      child!.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
    });
    if (ready.bus !== bus) throw new Error(`server runs the ${ready.bus} bus, expected ${bus}`);
    const url = `ws://127.0.0.1:${port}/ws`;
    const origin = `http://127.0.0.1:${port}`;

    // Pending expectations: key "<username>|<kind>" → when it started and which friends still wait.
    const pending = new Map<string, { t0: number; waiting: Set<number>; kind: string; done: () => void }>();
    const samples = new Map<string, number[]>();
    const onMessage = (receiver: number, raw: string) => {
      const m = JSON.parse(raw) as { type: string; username?: string; online?: boolean; is_streaming?: boolean };
      let key: string;
      if (m.type === 'presence') key = `${m.username}|${m.online ? 'open' : 'close'}`;
      else if (m.type === 'streaming_status') key = `${m.username}|streaming`;
      else return;
      const p = pending.get(key);
      if (!p || !p.waiting.delete(receiver)) return;
      const list = samples.get(p.kind) ?? [];
      list.push(now() - p.t0);
      samples.set(p.kind, list);
      if (p.waiting.size === 0) {
        pending.delete(key);
        p.done();
      }
    };
    const connect = (i: number) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(url, { headers: { cookie: cookies[i]!, origin } });
        ws.on('message', (d) => {
          const raw = d.toString();
          if (raw.startsWith('{"type":"hello"')) resolve(ws);
          else onMessage(i, raw);
        });
        ws.once('error', reject);
        ws.once('close', (code) => reject(new Error(`socket ${i} closed (${code}) before hello`)));
      });

    const t0 = now();
    for (let i = 0; i < USERS; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, USERS - i) }, (_, k) => connect(i + k)));
      for (let k = 0; k < batch.length; k++) sockets[i + k] = batch[k]!;
    }
    const connectAll = (now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 500)); // let the connect storm's presence messages drain

    const expect = (user: number, kind: 'close' | 'open' | 'streaming', label: string = kind) =>
      new Promise<void>((resolve, reject) => {
        const waiting = new Set(friendsOf(user));
        if (kind === 'streaming') waiting.add(user);
        const timer = setTimeout(() => reject(new Error(`${label} of ${names[user]} not delivered to ${waiting.size} sockets within 10 s`)), 10_000);
        pending.set(`${names[user]}|${kind}`, { t0: now(), waiting, kind: label, done: () => (clearTimeout(timer), resolve()) });
      });

    // Status changes one after another, spread over the users.
    for (let e = 0; e < EVENTS; e++) {
      const user = Math.floor((e * USERS) / EVENTS);
      const closing = expect(user, 'close');
      sockets[user]!.close();
      await closing;
      const opening = expect(user, 'open');
      sockets[user] = await connect(user);
      await opening;
      const streaming = expect(user, 'streaming');
      child.send({ cmd: 'streaming', userId: user + 1, username: names[user], isStreaming: e % 2 === 0 });
      await streaming;
    }

    // Bursts: BURST users (spread over the ring) go offline at the same moment, then come back.
    for (let round = 0; round < BURST_ROUNDS; round++) {
      const users = Array.from({ length: BURST }, (_, k) => (Math.floor((k * USERS) / BURST) + round * 3 + 1) % USERS);
      const closing = users.map((u) => expect(u, 'close', 'burst_close'));
      for (const u of users) sockets[u]!.close();
      await Promise.all(closing);
      const opening = users.map((u) => expect(u, 'open', 'burst_open'));
      const reopened = await Promise.all(users.map((u) => connect(u)));
      users.forEach((u, k) => (sockets[u] = reopened[k]!));
      await Promise.all(opening);
    }

    const group = (kinds: string[]) => {
      const byKind: Record<string, Percentiles> = {};
      for (const k of kinds) byKind[k] = percentiles(samples.get(k) ?? []);
      return { ...percentiles(kinds.flatMap((k) => samples.get(k) ?? [])), by_kind: byKind };
    };
    const single = group(['close', 'open', 'streaming']);
    const burst = group(['burst_close', 'burst_open']);
    return { users: USERS, friends_per_user: FRIENDS, ...single, burst: { simultaneous_changes: BURST, ...burst }, connect_all_s: round(connectAll) };
  } finally {
    for (const s of sockets) s?.terminate();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.send({ cmd: 'stop' });
      await exited;
    }
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function percentiles(list: number[]): Percentiles {
  if (list.length === 0) return { samples: 0, p50_ms: NaN, p99_ms: NaN, max_ms: NaN };
  const s = [...list].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { samples: s.length, p50_ms: round(at(0.5)), p99_ms: round(at(0.99)), max_ms: round(s[s.length - 1]!) };
}
function round(x: number): number {
  return Math.round(x * 100) / 100;
}
function line(name: string, s: Stats): string {
  const kinds = (by: Record<string, Percentiles>) =>
    Object.entries(by)
      .map(([k, v]) => `${k} p50 ${v.p50_ms} / p99 ${v.p99_ms}`)
      .join('; ');
  return [
    `${name}: ${s.users} users × ${s.friends_per_user} friends (all ${s.users} sockets connected in ${s.connect_all_s} s)`,
    `  one change at a time, ${s.samples} deliveries: p50 ${s.p50_ms} ms, p99 ${s.p99_ms} ms, max ${s.max_ms} ms (${kinds(s.by_kind)})`,
    `  ${s.burst.simultaneous_changes} changes at once, ${s.burst.samples} deliveries: p50 ${s.burst.p50_ms} ms, p99 ${s.burst.p99_ms} ms, max ${s.burst.max_ms} ms (${kinds(s.burst.by_kind)})`,
  ].join('\n');
}

const memory = await run('memory');
console.log(line('memory bus', memory));
const result: Record<string, unknown> = { ...memory, bus: 'memory' };
if (values.redis) {
  const redis = await run('redis');
  console.log(line('redis bus', redis));
  result.redis = { ...redis, bus: 'redis' };
}
result.target = 'p99 < 50 ms at 1000 users (in-memory bus)';
result.measured_at = new Date().toISOString();
mkdirSync(path.join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(PROJECT_ROOT, 'bench', 'results', 'presence.json'), JSON.stringify(result, null, 2) + '\n');
console.log('wrote bench/results/presence.json');
