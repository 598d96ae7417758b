// Presence over real WebSockets: who is told when someone comes online or
// goes offline (friends only, once per user however many tabs), the close
// codes of docs/api.md for bad sockets, and cleanup on sign-out and shutdown.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Client, type TestApp, type TestSocket, snapshot, startTestApp } from '../support/test-app.js';

let t: TestApp;
const offline: number[] = [];
const sockets: TestSocket[] = [];
before(async () => {
  t = await startTestApp({}, { heartbeatMs: 400 });
  t.app.services.presence.onUserOffline((id) => offline.push(id));
});
after(async () => {
  for (const s of sockets) await s.close();
  await t.close();
});

let n = 0;
type U = Client & { name: string; id: number };
async function user(prefix = 'pres'): Promise<U> {
  const c = new Client(t.base) as U;
  c.name = `${prefix}${++n}`;
  c.id = (await c.signup(c.name)).body.user.id;
  return c;
}
async function befriend(a: U, b: U) {
  await a.post('/api/friends/requests', { username: b.name });
  const r = await b.post('/api/friends/requests', { username: a.name });
  assert.equal(r.status, 200);
}
async function ws(c: Client): Promise<TestSocket> {
  const s = await c.socket();
  sockets.push(s);
  assert.deepEqual(await s.next((m) => m.type === 'hello'), { type: 'hello', username: (c as U).name });
  return s;
}
const presenceOf = (name: string, online: boolean) => (m: any) => m.type === 'presence' && m.username === name && m.online === online;

describe('online and offline', () => {
  test('a friend is told when I come online and when my last tab closes, once each; a non-friend learns nothing', async () => {
    const a = await user();
    const b = await user();
    const stranger = await user();
    await befriend(a, b);
    const sb = await ws(b);
    const sx = await ws(stranger);
    const tab1 = await ws(a);
    await sb.next(presenceOf(a.name, true));
    assert.equal(await t.app.services.presence.isOnline(a.id), true);
    const tab2 = await ws(a);
    assert.equal(t.app.services.presence.connections(a.id), 2);
    await tab1.close();
    await sb.assertNone((m) => m.type === 'presence' && m.username === a.name);
    assert.equal(await t.app.services.presence.isOnline(a.id), true, 'still online with one tab');
    assert.ok(!offline.includes(a.id));
    await tab2.close();
    await sb.next(presenceOf(a.name, false));
    assert.equal(await t.app.services.presence.isOnline(a.id), false);
    assert.deepEqual(offline.filter((x) => x === a.id), [a.id], 'onUserOffline fired once, for the last tab');
    await sx.assertNone((m) => m.type === 'presence');
    assert.deepEqual((await b.get('/api/friends')).body.friends.map((f: any) => f.online), [false]);
  });

  test('a new friendship makes presence flow at once, and a removed one stops it', async () => {
    const a = await user();
    const b = await user();
    const sb = await ws(b);
    await a.post('/api/friends/requests', { username: b.name });
    let sa = await ws(a);
    await sb.assertNone((m) => m.type === 'presence');
    await b.post('/api/friends/requests', { username: a.name });
    assert.deepEqual(await sb.next((m) => m.type === 'friend_added'), { type: 'friend_added', username: a.name, online: true, is_streaming: false });
    await sa.close();
    await sb.next(presenceOf(a.name, false));
    sa = await ws(a);
    await sb.next(presenceOf(a.name, true));
    await a.delete(`/api/friends/${b.name}`);
    await sb.next((m) => m.type === 'friend_removed');
    await sa.close();
    await sb.assertNone((m) => m.type === 'presence');
  });

  test('streaming_status sent through the notifier reaches the user’s own tabs and friends only', async () => {
    const a = await user();
    const b = await user();
    const x = await user();
    await befriend(a, b);
    const [sa, sb, sx] = [await ws(a), await ws(b), await ws(x)];
    const msg = { type: 'streaming_status' as const, username: a.name, is_streaming: true, started_at: '2026-01-01T00:00:00.000Z' };
    await t.app.services.notifier.toUserAndFriends(a.id, msg);
    assert.deepEqual(await sa.next((m) => m.type === 'streaming_status'), msg);
    assert.deepEqual(await sb.next((m) => m.type === 'streaming_status'), msg);
    await sx.assertNone((m) => m.type === 'streaming_status');
  });

  test('a client that stops answering heartbeats is dropped and goes offline', async () => {
    const a = await user();
    const b = await user();
    await befriend(a, b);
    const sb = await ws(b);
    const sa = await ws(a);
    await sb.next(presenceOf(a.name, true));
    // Simulate a frozen tab: the ws library answers pings by calling pong(); make it do nothing.
    (sa.ws as unknown as { pong: () => void }).pong = () => undefined;
    await sb.next(presenceOf(a.name, false), 5000);
    await sa.closed;
  });
});

describe('bad sockets are closed with a reason and change nothing', () => {
  async function raw(headers: Record<string, string>): Promise<{ code: number; reason: string }> {
    const w = new WebSocket(t.base.replace('http', 'ws') + '/ws', { headers });
    return new Promise((resolve, reject) => {
      w.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      w.once('error', reject);
    });
  }

  test('no cookie or a forged cookie closes with 4401 "not signed in"', async () => {
    const before = await snapshot(t.db);
    assert.deepEqual(await raw({ origin: t.base }), { code: 4401, reason: 'not signed in' });
    assert.deepEqual(await raw({ origin: t.base, cookie: 'hc_session=forged.cookie' }), { code: 4401, reason: 'not signed in' });
    assert.deepEqual(await snapshot(t.db), before);
  });

  test('a foreign or missing Origin closes with 4403 even with a valid session', async () => {
    const a = await user();
    assert.deepEqual(await raw({ origin: 'http://evil.example', cookie: a.cookie }), { code: 4403, reason: 'origin not allowed' });
    assert.deepEqual(await raw({ cookie: a.cookie }), { code: 4403, reason: 'origin not allowed' });
    assert.equal(await t.app.services.presence.isOnline(a.id), false);
  });

  test('an unknown message type closes with 4400 naming it; non-JSON with 4400 "malformed message"; over 4 KiB with 1009', async () => {
    const a = await user();
    const before = await snapshot(t.db);
    let s = await ws(a);
    s.send({ type: 'subscribe_all' });
    await s.closed;
    assert.deepEqual([s.closeCode, s.closeReason], [4400, 'unknown message type subscribe_all']);
    s = await ws(a);
    s.send('{not json');
    await s.closed;
    assert.deepEqual([s.closeCode, s.closeReason], [4400, 'malformed message']);
    s = await ws(a);
    s.send({ type: 'ping', pad: 'x'.repeat(5000) });
    await s.closed;
    assert.equal(s.closeCode, 1009);
    assert.deepEqual(await snapshot(t.db), before);
    // Every one of those sockets was counted out again.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await t.app.services.presence.isOnline(a.id), false);
  });

  test('a ping is answered with a pong', async () => {
    const s = await ws(await user());
    s.send({ type: 'ping' });
    assert.deepEqual(await s.next((m) => m.type === 'pong'), { type: 'pong' });
  });
});

test('signing out closes that session’s sockets with 4401 "signed out" and the friends see me go offline', async () => {
  const a = await user();
  const b = await user();
  await befriend(a, b);
  const sb = await ws(b);
  const sa = await ws(a);
  await sb.next(presenceOf(a.name, true));
  assert.equal((await a.post('/api/auth/signout')).status, 204);
  await sa.closed;
  assert.deepEqual([sa.closeCode, sa.closeReason], [4401, 'signed out']);
  await sb.next(presenceOf(a.name, false));
});

test('shutting down closes sockets with 4503 (reconnect now, to another node), fires onUserOffline and tells friends before the database closes', async () => {
  const own = await startTestApp();
  try {
    const a = new Client(own.base);
    const b = new Client(own.base);
    const aId = (await a.signup('shut_a')).body.user.id;
    await b.signup('shut_b');
    await a.post('/api/friends/requests', { username: 'shut_b' });
    await b.post('/api/friends/requests', { username: 'shut_a' });
    const sa = await a.socket();
    const sb = await b.socket();
    await sa.next((m) => m.type === 'hello');
    await sb.next((m) => m.type === 'hello');
    const seen: Array<{ id: number; dbOpen: boolean }> = [];
    own.app.services.presence.onUserOffline((id) => {
      seen.push({ id, dbOpen: true });
    });
    let closedOrder: string[] = [];
    own.app.services.closeChain.add('probe', async () => {
      closedOrder.push(`probe after ${seen.length} offline`);
      // The database is still usable here (the chain closes it last).
      await own.db.selectFrom('users').select('id').execute();
    });
    await own.app.close();
    await sa.closed;
    await sb.closed;
    assert.equal(sa.closeCode, 4503);
    assert.equal(sb.closeCode, 4503);
    assert.deepEqual(seen.map((s) => s.id).sort(), [aId, aId + 1].sort());
    assert.deepEqual(closedOrder, ['probe after 2 offline']);
    closedOrder = [];
  } finally {
    await own.close();
  }
});
