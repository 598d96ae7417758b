// Two server nodes sharing one database and one Redis bus: events reach a
// user's sockets whichever node they are connected to.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, type TestApp, type TestSocket, startTestApp } from '../support/test-app.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';

let redis: RunningRedis;
let dir: string;
let node1: TestApp;
let node2: TestApp;
const sockets: TestSocket[] = [];
before(async () => {
  redis = await startRedisServer();
  dir = mkdtempSync(path.join(os.tmpdir(), 'hc-two-nodes-'));
  const shared = { redisUrl: redis.url, databaseUrl: `sqlite:${path.join(dir, 'shared.db')}` };
  node1 = await startTestApp(shared);
  node2 = await startTestApp(shared);
});
after(async () => {
  for (const s of sockets) await s.close();
  await node1?.close();
  await node2?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('with the Redis bus, friend requests, presence and streaming_status cross from one node to sockets on another', async () => {
  assert.equal(node1.app.services.bus.kind, 'redis');
  const a = new Client(node1.base);
  const b = new Client(node2.base);
  const aId = (await a.signup('node_a')).body.user.id;
  await b.signup('node_b');
  const sb = await b.socket();
  sockets.push(sb);
  await sb.next((m) => m.type === 'hello');

  const req = await a.post('/api/friends/requests', { username: 'node_b' });
  assert.equal((await sb.next((m) => m.type === 'friend_request')).request.id, req.body.request.id);
  await b.post(`/api/friends/requests/${req.body.request.id}/accept`);

  const sa = await a.socket();
  sockets.push(sa);
  await sb.next((m) => m.type === 'presence' && m.username === 'node_a' && m.online === true);
  await node1.app.services.notifier.toUserAndFriends(aId, { type: 'streaming_status', username: 'node_a', is_streaming: true });
  await sb.next((m) => m.type === 'streaming_status' && m.username === 'node_a');
  await sa.next((m) => m.type === 'streaming_status' && m.username === 'node_a');
  await sa.close();
  await sb.next((m) => m.type === 'presence' && m.username === 'node_a' && m.online === false);
});
