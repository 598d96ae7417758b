// Friends over a real port: every rule of docs/api.md "Users & friends", the
// real-time events each action sends to the other side, and that every bad
// or repeated action leaves the database unchanged.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { nowIso } from '../../src/store/db.js';
import { Client, type TestApp, type TestSocket, snapshot, startTestApp } from '../support/test-app.js';

let t: TestApp;
const sockets: TestSocket[] = [];
before(async () => {
  t = await startTestApp();
});
after(async () => {
  for (const s of sockets) await s.close();
  await t.close();
});

let n = 0;
async function user(prefix: string): Promise<Client & { name: string }> {
  const c = new Client(t.base) as Client & { name: string };
  c.name = `${prefix}${++n}`;
  await c.signup(c.name);
  return c;
}
async function ws(c: Client): Promise<TestSocket> {
  const s = await c.socket();
  sockets.push(s);
  await s.next((m) => m.type === 'hello');
  return s;
}
/** Asserts a refused action: status, code, and no change in any table. */
async function refused(action: () => Promise<{ status: number; body: any }>, status: number, code: string): Promise<void> {
  const before = await snapshot(t.db);
  const r = await action();
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error.code, code);
  assert.equal(typeof r.body.error.message, 'string');
  assert.deepEqual(await snapshot(t.db), before, 'the store changed');
}

test('looking up users gives their relation to me: self, none, outgoing, incoming, friend; an unknown name is 404 USER_NOT_FOUND', async () => {
  const a = await user('look');
  const b = await user('look');
  assert.deepEqual((await a.get(`/api/users/${a.name.toUpperCase()}`)).body, { user: { username: a.name, relation: 'self' } });
  assert.equal((await a.get(`/api/users/${b.name}`)).body.user.relation, 'none');
  const req = await a.post('/api/friends/requests', { username: b.name });
  assert.equal((await a.get(`/api/users/${b.name}`)).body.user.relation, 'outgoing');
  assert.equal((await b.get(`/api/users/${a.name}`)).body.user.relation, 'incoming');
  await b.post(`/api/friends/requests/${req.body.request.id}/accept`);
  assert.equal((await a.get(`/api/users/${b.name}`)).body.user.relation, 'friend');
  const missing = await a.get('/api/users/nobody_at_all');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'USER_NOT_FOUND');
  assert.equal((await new Client(t.base).get(`/api/users/${a.name}`)).status, 401);
});

test('a request is 201 with a message and reaches the recipient in real time; accepting makes both friends and tells both sides', async () => {
  const a = await user('req');
  const b = await user('req');
  const sa = await ws(a);
  const sb = await ws(b);
  const r = await a.post('/api/friends/requests', { username: b.name.toUpperCase() });
  assert.equal(r.status, 201);
  assert.equal(r.body.request.username, b.name);
  assert.match(r.body.message, new RegExp(b.name));
  const ev = await sb.next((m) => m.type === 'friend_request');
  assert.deepEqual(ev.request, { id: r.body.request.id, username: a.name, created_at: r.body.request.created_at });

  const lists = await b.get('/api/friends');
  assert.deepEqual(lists.body.incoming, [{ id: r.body.request.id, username: a.name, created_at: r.body.request.created_at }]);
  assert.deepEqual((await a.get('/api/friends')).body.outgoing.map((x: any) => x.username), [b.name]);

  const acc = await b.post(`/api/friends/requests/${r.body.request.id}/accept`);
  assert.equal(acc.status, 200);
  assert.deepEqual(acc.body.friend, { username: a.name });
  assert.equal(acc.body.message, `You and ${a.name} are now friends`);
  assert.deepEqual(await sa.next((m) => m.type === 'friend_added'), { type: 'friend_added', username: b.name, online: true, is_streaming: false });
  assert.deepEqual(await sb.next((m) => m.type === 'friend_added'), { type: 'friend_added', username: a.name, online: true, is_streaming: false });
  const fa = (await a.get('/api/friends')).body;
  assert.deepEqual(fa, { friends: [{ username: b.name, online: true, is_streaming: false, started_at: null, listeners: 0 }], incoming: [], outgoing: [] });
  assert.equal((await t.db.selectFrom('friend_requests').selectAll().execute()).some((x) => x.id === r.body.request.id), false);
});

test('a request to someone who already asked me becomes a friendship at once (200, both told)', async () => {
  const a = await user('mut');
  const b = await user('mut');
  const sa = await ws(a);
  await a.post('/api/friends/requests', { username: b.name });
  const r = await b.post('/api/friends/requests', { username: a.name });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.friend, { username: a.name });
  assert.equal(r.body.message, `You and ${a.name} are now friends`);
  const ev = await sa.next((m) => m.type === 'friend_added');
  assert.equal(ev.username, b.name);
  assert.equal(ev.online, false, 'b has no socket open');
  const f = (await b.get('/api/friends')).body;
  assert.deepEqual(f.friends.map((x: any) => [x.username, x.online]), [[a.name, true]]);
  assert.deepEqual([f.incoming, f.outgoing], [[], []]);
});

test('self, unknown, duplicate and already-friends requests are refused with their codes and change nothing', async () => {
  const a = await user('bad');
  const b = await user('bad');
  const c = await user('bad');
  await refused(() => a.post('/api/friends/requests', { username: a.name.toUpperCase() }), 400, 'SELF_REQUEST');
  await refused(() => a.post('/api/friends/requests', { username: 'ghost_user' }), 404, 'USER_NOT_FOUND');
  await refused(() => a.post('/api/friends/requests', {}), 400, 'VALIDATION');
  await refused(() => a.post('/api/friends/requests', { username: 7 }), 400, 'VALIDATION');
  await a.post('/api/friends/requests', { username: b.name });
  await refused(() => a.post('/api/friends/requests', { username: b.name }), 409, 'REQUEST_EXISTS');
  await b.post('/api/friends/requests', { username: a.name });
  await refused(() => a.post('/api/friends/requests', { username: b.name }), 409, 'ALREADY_FRIENDS');
  await refused(() => b.post('/api/friends/requests', { username: a.name }), 409, 'ALREADY_FRIENDS');
  await refused(() => new Client(t.base).post('/api/friends/requests', { username: c.name }), 401, 'NOT_SIGNED_IN');
});

test('only the recipient may accept or decline, only the sender may cancel; a second answer is 404 REQUEST_NOT_FOUND and changes nothing', async () => {
  const a = await user('own');
  const b = await user('own');
  const x = await user('own');
  const id = (await a.post('/api/friends/requests', { username: b.name })).body.request.id;
  await refused(() => a.post(`/api/friends/requests/${id}/accept`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => x.post(`/api/friends/requests/${id}/accept`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => a.post(`/api/friends/requests/${id}/decline`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => b.delete(`/api/friends/requests/${id}`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => x.delete(`/api/friends/requests/${id}`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => b.post('/api/friends/requests/999999/accept'), 404, 'REQUEST_NOT_FOUND');
  await refused(() => b.post('/api/friends/requests/abc/accept'), 400, 'VALIDATION');
  assert.equal((await b.post(`/api/friends/requests/${id}/accept`)).status, 200);
  await refused(() => b.post(`/api/friends/requests/${id}/accept`), 404, 'REQUEST_NOT_FOUND');
  await refused(() => b.post(`/api/friends/requests/${id}/decline`), 404, 'REQUEST_NOT_FOUND');
});

test('declining removes the request and tells the sender in real time; no friendship is made', async () => {
  const a = await user('dec');
  const b = await user('dec');
  const sa = await ws(a);
  const id = (await a.post('/api/friends/requests', { username: b.name })).body.request.id;
  const r = await b.post(`/api/friends/requests/${id}/decline`);
  assert.equal(r.status, 200);
  assert.match(r.body.message, new RegExp(a.name));
  assert.deepEqual(await sa.next((m) => m.type === 'friend_request_declined'), { type: 'friend_request_declined', id, username: b.name });
  assert.deepEqual((await a.get('/api/friends')).body, { friends: [], incoming: [], outgoing: [] });
  assert.equal((await a.get(`/api/users/${b.name}`)).body.user.relation, 'none');
});

test('cancelling removes the request and tells the recipient in real time', async () => {
  const a = await user('can');
  const b = await user('can');
  const sb = await ws(b);
  const id = (await a.post('/api/friends/requests', { username: b.name })).body.request.id;
  await sb.next((m) => m.type === 'friend_request');
  const r = await a.delete(`/api/friends/requests/${id}`);
  assert.equal(r.status, 200);
  assert.equal(typeof r.body.message, 'string');
  assert.deepEqual(await sb.next((m) => m.type === 'friend_request_cancelled'), { type: 'friend_request_cancelled', id, username: a.name });
  assert.deepEqual((await b.get('/api/friends')).body.incoming, []);
  await refused(() => a.delete(`/api/friends/requests/${id}`), 404, 'REQUEST_NOT_FOUND');
});

test("the actor's other tabs follow requests live: the sender's see one appear and vanish on cancel, the recipient's see it vanish on decline", async () => {
  const a = await user('tabs');
  const b = await user('tabs');
  const aThis = await ws(a);
  const aOther = await ws(a);
  const bOther = await ws(b);
  const r = await a.post('/api/friends/requests', { username: b.name });
  const id = r.body.request.id;
  const sent = { type: 'friend_request_sent', request: { id, username: b.name, created_at: r.body.request.created_at } };
  assert.deepEqual(await aThis.next((m) => m.type === 'friend_request_sent'), sent);
  assert.deepEqual(await aOther.next((m) => m.type === 'friend_request_sent'), sent);
  await bOther.assertNone((m) => m.type === 'friend_request_sent');
  assert.equal((await a.delete(`/api/friends/requests/${id}`)).status, 200);
  assert.deepEqual(await aOther.next((m) => m.type === 'friend_request_removed'), { type: 'friend_request_removed', id });
  await bOther.assertNone((m) => m.type === 'friend_request_removed');

  const id2 = (await a.post('/api/friends/requests', { username: b.name })).body.request.id;
  await aOther.next((m) => m.type === 'friend_request_sent' && m.request.id === id2);
  assert.equal((await b.post(`/api/friends/requests/${id2}/decline`)).status, 200);
  assert.deepEqual(await bOther.next((m) => m.type === 'friend_request_removed'), { type: 'friend_request_removed', id: id2 });
  await aOther.assertNone((m) => m.type === 'friend_request_removed');
});

test('either side can remove a friendship; both are told; removing again or a non-friend is 404 NOT_FRIENDS and changes nothing', async () => {
  const a = await user('rem');
  const b = await user('rem');
  const c = await user('rem');
  const sa = await ws(a);
  const sb = await ws(b);
  await a.post('/api/friends/requests', { username: b.name });
  await b.post('/api/friends/requests', { username: a.name });
  const r = await b.delete(`/api/friends/${a.name.toUpperCase()}`);
  assert.equal(r.status, 200);
  assert.equal(typeof r.body.message, 'string');
  assert.deepEqual(await sa.next((m) => m.type === 'friend_removed'), { type: 'friend_removed', username: b.name });
  assert.deepEqual(await sb.next((m) => m.type === 'friend_removed'), { type: 'friend_removed', username: a.name });
  await refused(() => a.delete(`/api/friends/${b.name}`), 404, 'NOT_FRIENDS');
  await refused(() => a.delete(`/api/friends/${c.name}`), 404, 'NOT_FRIENDS');
  await refused(() => a.delete('/api/friends/ghost_user'), 404, 'NOT_FRIENDS');
});

test('the friends list shows a live friend with started_at and is_streaming from active_streams', async () => {
  const a = await user('live');
  const b = await user('live');
  await a.post('/api/friends/requests', { username: b.name });
  await b.post('/api/friends/requests', { username: a.name });
  const bId = (await b.get('/api/auth/me')).body.user.id;
  const startedAt = nowIso();
  await t.db.insertInto('active_streams').values({ user_id: bId, session_id: `sess-${bId}`, started_at: startedAt, denoise_engine: 'none', recording_id: null }).execute();
  const sa = await ws(a);
  const f = (await a.get('/api/friends')).body.friends[0];
  assert.deepEqual(f, { username: b.name, online: false, is_streaming: true, started_at: startedAt, listeners: 0 });
  // friend_added for a new friend also carries the live state.
  const c = await user('live');
  await c.post('/api/friends/requests', { username: b.name });
  const sc = await ws(c);
  await b.post('/api/friends/requests', { username: c.name });
  assert.deepEqual(await sc.next((m) => m.type === 'friend_added'), { type: 'friend_added', username: b.name, online: false, is_streaming: true });
  await sa.assertNone((m) => m.type === 'friend_added');
});

test('a cross-origin friend request is 403 CSRF_ORIGIN and changes nothing', async () => {
  const a = await user('xo');
  const b = await user('xo');
  a.origin = 'http://evil.example';
  await refused(() => a.post('/api/friends/requests', { username: b.name }), 403, 'CSRF_ORIGIN');
  await refused(() => a.delete(`/api/friends/${b.name}`), 403, 'CSRF_ORIGIN');
});

test('when the bus is down a friend request still succeeds (it is committed) and the recipient sees it on reload', async () => {
  const { MemoryBus } = await import('../../src/bus/memory.js');
  class DownBus extends MemoryBus {
    override async publish(): Promise<void> {
      throw new Error('bus down (injected by the test)');
    }
  }
  const own = await startTestApp({}, { bus: new DownBus() });
  try {
    const a = new Client(own.base);
    const b = new Client(own.base);
    await a.signup('busdown_a');
    await b.signup('busdown_b');
    const r = await a.post('/api/friends/requests', { username: 'busdown_b' });
    assert.equal(r.status, 201);
    assert.deepEqual((await b.get('/api/friends')).body.incoming.map((x: any) => x.username), ['busdown_a']);
  } finally {
    await own.close();
  }
});
