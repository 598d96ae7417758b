// GET /api/health of a cluster node: who it is, and 503 when the database or
// Redis stops answering (so a load balancer takes the node out).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Client, startTestApp } from '../support/test-app.js';
import { startRedisServer } from '../support/redis-server.js';
import { startPostgresServer } from '../support/postgres-server.js';

test('a cluster node reports its id, role, streams, load and both dependencies, then 503 once Redis is gone', async () => {
  const redis = await startRedisServer();
  const pg = await startPostgresServer();
  const node = await startTestApp({ redisUrl: redis.url, databaseUrl: await pg.createDatabase(), nodeId: 'health-a' });
  try {
    const up = await new Client(node.base).get('/api/health');
    assert.equal(up.status, 200);
    assert.equal(up.body.ok, true);
    assert.deepEqual(up.body.node.id, 'health-a');
    assert.equal(up.body.node.role, 'cluster');
    assert.equal(up.body.node.streams, 0);
    assert.equal(typeof up.body.node.load, 'number');
    assert.deepEqual(up.body.database, { kind: 'postgres', reachable: true });
    assert.deepEqual(up.body.redis, { reachable: true });

    await redis.stop();
    const down = await new Client(node.base).get('/api/health');
    assert.equal(down.status, 503);
    assert.equal(down.body.ok, false);
    assert.deepEqual(down.body.redis, { reachable: false });
    assert.deepEqual(down.body.database, { kind: 'postgres', reachable: true });
  } finally {
    await node.close().catch(() => undefined);
    await redis.stop();
    await pg.stop();
  }
});

test('a node answers 503 with the database marked unreachable once PostgreSQL is gone', async () => {
  const pg = await startPostgresServer();
  const node = await startTestApp({ databaseUrl: await pg.createDatabase() });
  try {
    assert.equal((await new Client(node.base).get('/api/health')).status, 200);
    await pg.stop();
    const down = await new Client(node.base).get('/api/health');
    assert.equal(down.status, 503);
    assert.deepEqual(down.body.database, { kind: 'postgres', reachable: false });
    assert.equal(down.body.redis, null);
  } finally {
    await node.close().catch(() => undefined);
    await pg.stop();
  }
});
