// The repository's nginx configuration (deploy/nginx-hushcast.conf) in front of
// two nodes: HTTP and the /ws upgrade reach both nodes with no sticky sessions,
// and when one node shuts down its browsers are told to reconnect and nginx
// sends them, and every request, to the other.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningNginx, startNginx } from '../support/nginx.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';
import { postgresStore } from '../support/stores.js';
import { Client, startTestApp, type TestApp, type TestSocket } from '../support/test-app.js';

const SECRETS = { sessionSecret: 'cluster-test-secret-0123456789', clusterSecret: 'node-to-node-secret-0123456789' };
let redis: RunningRedis;
let a: TestApp;
let b: TestApp;
let nginx: RunningNginx;
before(async () => {
  redis = await startRedisServer();
  const databaseUrl = await postgresStore.newDatabaseUrl();
  [a, b] = await Promise.all([
    startTestApp({ redisUrl: redis.url, databaseUrl, nodeId: 'lb-a', ...SECRETS }),
    startTestApp({ redisUrl: redis.url, databaseUrl, nodeId: 'lb-b', ...SECRETS }),
  ]);
  nginx = await startNginx([a.base, b.base].map((u) => u.replace('http://', '')));
});
after(async () => {
  await nginx?.stop();
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

test('through nginx: sign-up, friends and presence work whichever node serves each request, and a node shutting down hands its browsers to the other', { timeout: 60_000 }, async () => {
  const ann = new Client(nginx.base);
  const bob = new Client(nginx.base);
  await ann.signup('lb_ann');
  await bob.signup('lb_bob');
  const req = await ann.post('/api/friends/requests', { username: 'lb_bob' });
  assert.equal(req.status, 201);
  assert.equal((await bob.post(`/api/friends/requests/${req.body.request.id}/accept`)).status, 200);

  // Round robin puts consecutive sockets on different nodes.
  const sockets: TestSocket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = await (i % 2 ? ann : bob).socket();
    await s.next((m) => m.type === 'hello');
    sockets.push(s);
  }
  assert.ok(a.app.services.presence.onlineUsers() > 0 && b.app.services.presence.onlineUsers() > 0, 'sockets landed on both nodes');
  const friends = await bob.get('/api/friends');
  assert.equal(friends.body.friends[0].online, true);

  // app.close() is what SIGTERM runs; it resolves after the node closed its sockets.
  await a.close();
  const closed = sockets.filter((s) => s.ws.readyState !== s.ws.OPEN);
  await Promise.all(closed.map((s) => s.closed));
  assert.ok(closed.length > 0, "node A's sockets were closed");
  for (const s of closed) assert.equal(s.closeCode, 4503, 'told to reconnect at once');
  // The browser reconnects through nginx and lands on the surviving node.
  const again = await ann.socket();
  await again.next((m) => m.type === 'hello');
  assert.equal((await ann.get('/api/health')).status, 200);
  assert.equal((await ann.get('/api/health')).body.node.id, 'lb-b');
  assert.equal((await bob.get('/api/friends')).body.friends[0].online, true);
  for (const s of [...sockets, again]) await s.close();
});
