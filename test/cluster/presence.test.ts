// Presence across nodes: two nodes share one PostgreSQL and one Redis. A user is
// online while any tab on any node is connected; a node that dies has its
// sockets counted out by a survivor within 15 s and friends are told.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, startTestApp, type TestApp, type TestSocket } from '../support/test-app.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';
import { startNodeProcess } from '../support/node-process.js';
import { postgresStore } from '../support/stores.js';

const SECRET = 'cluster-test-secret-0123456789';
let redis: RunningRedis;
let databaseUrl: string;
let a: TestApp;
let b: TestApp;
const sockets: TestSocket[] = [];
before(async () => {
  redis = await startRedisServer();
  databaseUrl = await postgresStore.newDatabaseUrl();
  const shared = { redisUrl: redis.url, databaseUrl, sessionSecret: SECRET };
  [a, b] = await Promise.all([startTestApp({ ...shared, nodeId: 'node-a' }), startTestApp({ ...shared, nodeId: 'node-b' })]);
});
after(async () => {
  for (const s of sockets) await s.close();
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

async function open(c: Client): Promise<TestSocket> {
  const s = await c.socket();
  sockets.push(s);
  await s.next((m) => m.type === 'hello');
  return s;
}

/** Two friends, each signed in once; the cookie works on every node (one session table, one secret). */
async function friends(x: string, y: string): Promise<[Client, Client]> {
  const cx = new Client(a.base);
  const cy = new Client(b.base);
  await cx.signup(x);
  await cy.signup(y);
  const req = await cx.post('/api/friends/requests', { username: y });
  await cy.post(`/api/friends/requests/${req.body.request.id}/accept`);
  return [cx, cy];
}

function on(c: Client, base: string): Client {
  const other = new Client(base);
  other.cookie = c.cookie;
  return other;
}

const onlineOf = async (c: Client, name: string) => (await c.get('/api/friends')).body.friends.find((f: any) => f.username === name)?.online;

test('a user with tabs on two nodes is online until the last tab anywhere closes; friends hear online once and offline once', async () => {
  const [alice, bob] = await friends('p_alice', 'p_bob');
  const bobTab = await open(bob);
  const aliceOnA = await open(alice);
  await bobTab.next((m) => m.type === 'presence' && m.username === 'p_alice' && m.online === true);
  const aliceOnB = await open(on(alice, b.base));
  assert.equal(await onlineOf(bob, 'p_alice'), true, 'listed online through node B');
  assert.equal(await onlineOf(on(bob, a.base), 'p_alice'), true, 'listed online through node A');

  await aliceOnA.close();
  assert.equal(await onlineOf(bob, 'p_alice'), true, 'still online with a tab on node B');
  await bobTab.assertNone((m) => m.type === 'presence' && m.username === 'p_alice');

  await aliceOnB.close();
  await bobTab.next((m) => m.type === 'presence' && m.username === 'p_alice' && m.online === false);
  assert.equal(await onlineOf(on(bob, a.base), 'p_alice'), false);
  await bobTab.assertNone((m) => m.type === 'presence' && m.username === 'p_alice');
});

test('tabs opening and closing on both nodes at once leave the count right: online while one stays, offline after it', async () => {
  const [carol, dave] = await friends('p_carol', 'p_dave');
  const daveTab = await open(dave);
  const keeper = await open(carol);
  await daveTab.next((m) => m.type === 'presence' && m.username === 'p_carol' && m.online === true);
  const churn = await Promise.all(Array.from({ length: 12 }, (_, i) => open(on(carol, i % 2 ? a.base : b.base))));
  await Promise.all(churn.map((s) => s.close()));
  assert.equal(await onlineOf(dave, 'p_carol'), true);
  await daveTab.assertNone((m) => m.type === 'presence' && m.username === 'p_carol');
  await keeper.close();
  await daveTab.next((m) => m.type === 'presence' && m.username === 'p_carol' && m.online === false);
  assert.equal(await onlineOf(on(dave, a.base), 'p_carol'), false);
});

test('a node killed with SIGKILL has its sockets counted out within 15 s and friends on the other node are told', { timeout: 90_000 }, async () => {
  const [erin, frank] = await friends('p_erin', 'p_frank');
  const doomed = await startNodeProcess({ DATABASE_URL: databaseUrl, REDIS_URL: redis.url, NODE_ID: 'node-doomed', DATA_DIR: a.config.dataDir + '-doomed' });
  try {
    const frankTab = await open(frank);
    const erinTab = await open(on(erin, doomed.base));
    await frankTab.next((m) => m.type === 'presence' && m.username === 'p_erin' && m.online === true);
    assert.equal(await onlineOf(frank, 'p_erin'), true);

    const killedAt = Date.now();
    await doomed.kill('SIGKILL');
    await frankTab.next((m) => m.type === 'presence' && m.username === 'p_erin' && m.online === false, 30_000);
    const took = Date.now() - killedAt;
    assert.ok(took < 15_000, `counted out after ${took} ms`);
    assert.equal(await onlineOf(frank, 'p_erin'), false, 'listed offline');
    await erinTab.closed;
    // Node B goes on serving everything else.
    assert.equal((await frank.get('/api/health')).status, 200);
  } finally {
    await doomed.kill('SIGKILL');
  }
});
