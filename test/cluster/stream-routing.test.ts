// Requests about a live stream arriving at a node that does not host it are
// carried out by the hosting node (over Redis, signed with CLUSTER_SECRET):
// the broadcaster's offer, a listener's offer and stop, denoise changes, the
// broadcaster's status and stop. Media flows straight to the hosting node.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BroadcasterPeer, ListenerPeer } from '../integration/streams-peers.js';
import { Client, befriend, eventually } from '../integration/streams-harness.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';
import { postgresStore } from '../support/stores.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const SESSION_SECRET = 'cluster-test-secret-0123456789';
const CLUSTER_SECRET = 'node-to-node-secret-0123456789';
let redis: RunningRedis;
let host: TestApp;
let other: TestApp;
before(async () => {
  redis = await startRedisServer();
  const databaseUrl = await postgresStore.newDatabaseUrl();
  const node = (nodeId: string, clusterSecret = CLUSTER_SECRET) =>
    startTestApp({ redisUrl: redis.url, databaseUrl, nodeId, clusterSecret, sessionSecret: SESSION_SECRET, mediaWorkers: 1, mediaRtPriority: 0, noMediaTimeoutMs: 60_000 }, { media: undefined });
  host = await node('host');
  other = await node('other');
});
after(async () => {
  await Promise.all([host?.close(), other?.close()]);
  await redis?.stop();
});

/** The same signed-in user through another node (one session table, one cookie secret). */
function via(c: Client, base: string): Client {
  const x = new Client(base);
  x.cookie = c.cookie;
  x.username = c.username;
  return x;
}

test('offers, listening, denoise, status and stop sent through another node are carried out on the hosting node', { timeout: 120_000 }, async () => {
  const alice = await new Client(host.base).signup('r_alice');
  const bob = await new Client(other.base).signup('r_bob');
  await befriend(alice, bob);
  const aliceElsewhere = via(alice, other.base);
  const broadcaster = new BroadcasterPeer();
  const listener = new ListenerPeer();
  try {
    const start = await alice.post('/api/stream/start/');
    assert.equal(start.status, 201);
    const sessionId: string = start.body.stream.session_id;
    assert.equal(host.app.services.localStreams(), 1, 'hosted by the node that took the start');

    await broadcaster.connect(aliceElsewhere, sessionId);
    broadcaster.startSending();

    const listen = await listener.listen(bob, 'r_alice');
    assert.equal(listen.status, 200, JSON.stringify(listen.body));
    await eventually(() => listener.packets > 50, 15_000, 'audio from the hosting node');
    assert.equal(host.app.services.media!.listenerCount(sessionId), 1, "the listener is on the host's media session");
    assert.equal(other.app.services.localStreams(), 0);

    const denoise = await aliceElsewhere.post('/api/stream/denoise/', { atten_lim_db: 6 });
    assert.equal(denoise.status, 200, JSON.stringify(denoise.body));
    const status = await aliceElsewhere.get('/api/stream/status/');
    assert.equal(status.body.me.is_streaming, true);
    assert.equal(status.body.me.session_id, sessionId);
    assert.equal(status.body.me.atten_lim_db, 6, 'the denoise change reached the hosting node');

    const stopListening = await bob.post('/api/webrtc/listen/stop/', { username: 'r_alice', listener_id: listener.listenerId });
    assert.equal(stopListening.status, 200, JSON.stringify(stopListening.body));
    assert.equal(host.app.services.media!.listenerCount(sessionId), 0);
    const again = await bob.post('/api/webrtc/listen/stop/', { username: 'r_alice', listener_id: listener.listenerId });
    assert.equal(again.status, 404, "the host's error comes back with its status");
    assert.equal(again.body.error.code, 'NO_SUCH_LISTENER');

    const stop = await aliceElsewhere.post('/api/stream/stop/');
    assert.equal(stop.status, 200, JSON.stringify(stop.body));
    assert.ok(stop.body.recording, 'the recording finalized by the host comes back');
    assert.equal(host.app.services.localStreams(), 0);
    assert.equal((await host.db.selectFrom('active_streams').selectAll().execute()).length, 0);
  } finally {
    broadcaster.stopSending();
    await Promise.all([broadcaster.close(), listener.close()]);
  }
});

test('a node with another CLUSTER_SECRET cannot drive the hosting node: its request is dropped and answered 503', { timeout: 120_000 }, async () => {
  const intruder = await startTestApp({ redisUrl: redis.url, databaseUrl: host.config.databaseUrl, nodeId: 'intruder', clusterSecret: 'not-the-cluster-secret-000', sessionSecret: SESSION_SECRET, mediaWorkers: 1, mediaRtPriority: 0 }, { media: undefined });
  try {
    const carol = await new Client(host.base).signup('r_carol');
    const start = await carol.post('/api/stream/start/');
    assert.equal(start.status, 201);
    const stop = await via(carol, intruder.base).post('/api/stream/stop/');
    assert.equal(stop.status, 503);
    assert.equal(stop.body.error.code, 'MEDIA_UNAVAILABLE');
    assert.equal(host.app.services.localStreams(), 1, 'the stream is still live on its host');
    assert.equal((await carol.post('/api/stream/stop/')).status, 200);
  } finally {
    await intruder.close();
  }
});

test('starts of one user racing through both nodes create exactly one live stream', { timeout: 60_000 }, async () => {
  const dan = await new Client(host.base).signup('r_dan');
  const starts = await Promise.all(Array.from({ length: 6 }, (_, i) => via(dan, i % 2 ? other.base : host.base).post('/api/stream/start/')));
  assert.deepEqual(starts.map((r) => r.status).sort(), [201, 409, 409, 409, 409, 409]);
  assert.ok(starts.filter((r) => r.status === 409).every((r) => r.body.error.code === 'ALREADY_STREAMING'));
  assert.equal(host.app.services.localStreams() + other.app.services.localStreams(), 1);
  assert.equal((await host.db.selectFrom('active_streams').selectAll().execute()).length, 1);
  assert.equal((await via(dan, other.base).post('/api/stream/stop/')).status, 200, 'stopped through either node');
});
