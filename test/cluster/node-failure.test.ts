// Live streams when nodes come and go: a node's start-up clean-up touches only
// its own rows, and a node that dies (SIGKILL) has its streams ended by a
// survivor within 15 s; when it comes back, its recording is repaired and listed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { claimActiveStream } from '../../src/store/active-streams.js';
import { nowIso } from '../../src/store/db.js';
import { createRecording } from '../../src/store/recordings.js';
import { createUser } from '../../src/store/users.js';
import { BroadcasterPeer } from '../integration/streams-peers.js';
import { Client, befriend, eventually } from '../integration/streams-harness.js';
import { startNodeProcess } from '../support/node-process.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';
import { postgresStore } from '../support/stores.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let redis: RunningRedis;
let databaseUrl: string;
let survivor: TestApp;
const dirs: string[] = [];
before(async () => {
  redis = await startRedisServer();
  databaseUrl = await postgresStore.newDatabaseUrl();
  // The survivor has a media plane of its own: it is a full node, and its streams feature ends dead nodes' streams.
  survivor = await startTestApp({ redisUrl: redis.url, databaseUrl, nodeId: 'survivor', mediaWorkers: 1, mediaRtPriority: 0 }, { media: undefined });
});
after(async () => {
  await survivor?.close();
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'hc-node-'));
  dirs.push(d);
  return d;
}

test('a node starting up leaves the live streams and unfinished recordings of other nodes alone', { timeout: 90_000 }, async () => {
  const db = survivor.db;
  const owner = (await createUser(db, 'n_elsewhere', 'h'))!;
  const stream = await claimActiveStream(db, { userId: owner.id, sessionId: 'live-elsewhere', startedAt: nowIso(), engine: 'none', nodeId: 'elsewhere' });
  const recordingId = await createRecording(db, { ownerId: owner.id, fileName: 'n_elsewhere_20261207T000000_000Z.wav', rawFileName: null, startedAt: nowIso(), sampleRate: 48000, engine: 'none', nodeId: 'elsewhere' });
  assert.ok(stream);
  const newcomer = await startNodeProcess({ DATABASE_URL: databaseUrl, REDIS_URL: redis.url, NODE_ID: 'newcomer', DATA_DIR: dataDir() });
  try {
    const row = await db.selectFrom('active_streams').selectAll().where('session_id', '=', 'live-elsewhere').executeTakeFirst();
    assert.ok(row, "the other node's live stream is still live");
    const rec = await db.selectFrom('stream_recordings').selectAll().where('id', '=', recordingId).executeTakeFirstOrThrow();
    assert.equal(rec.status, 'recording', "the other node's recording is still being recorded");
  } finally {
    await newcomer.kill('SIGTERM');
  }
});

test('a SIGKILLed node: a survivor ends its live stream for friends within 15 s; restarted, it recovers the recording, which is listed', { timeout: 180_000 }, async () => {
  const dir = dataDir();
  const env = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url, NODE_ID: 'doomed', DATA_DIR: dir, NO_MEDIA_TIMEOUT_MS: '60000' };
  let doomed = await startNodeProcess(env);
  const alice = await new Client(doomed.base).signup('n_alice');
  const frank = await new Client(survivor.base).signup('n_frank');
  await befriend(alice, frank);
  const frankWs = await frank.ws();
  const peer = new BroadcasterPeer();
  try {
    const start = await alice.post('/api/stream/start/');
    assert.equal(start.status, 201);
    const sessionId: string = start.body.stream.session_id;
    await frankWs.waitFor((m) => m.type === 'streaming_status' && m.username === 'n_alice' && m.is_streaming === true);
    await peer.connect(alice, sessionId);
    peer.startSending();
    const rec = await survivor.db.selectFrom('stream_recordings').selectAll().where('node_id', '=', 'doomed').executeTakeFirstOrThrow();
    // Half a second of audio on disk (the recorder flushes every 0.5 s) before the node dies.
    await eventually(() => {
      try {
        return statSync(path.join(dir, 'recordings', rec.file_name)).size > 48_000;
      } catch {
        return false;
      }
    }, 15_000, 'recorded audio on disk');

    const killedAt = Date.now();
    await doomed.kill('SIGKILL');
    await frankWs.waitFor((m) => m.type === 'streaming_status' && m.username === 'n_alice' && m.is_streaming === false, 30_000);
    const took = Date.now() - killedAt;
    assert.ok(took < 15_000, `stream ended for friends ${took} ms after the node died`);
    assert.equal(await survivor.db.selectFrom('active_streams').selectAll().where('session_id', '=', sessionId).executeTakeFirst(), undefined);
    const interrupted = await survivor.db.selectFrom('stream_recordings').selectAll().where('id', '=', rec.id).executeTakeFirstOrThrow();
    assert.equal(interrupted.status, 'interrupted', 'no longer "recording"');
    const status = await frank.get('/api/stream/status/');
    assert.equal(status.body.friends.find((f: any) => f.username === 'n_alice').is_streaming, false);
    peer.stopSending();

    doomed = await startNodeProcess(env);
    const listed = await frank.get('/api/recordings');
    const mine = listed.body.recordings.find((r: any) => r.id === rec.id);
    assert.ok(mine, `the recovered recording is listed: ${JSON.stringify(listed.body)}`);
    assert.equal(mine.status, 'recovered');
    assert.ok(mine.duration_ms >= 500, `duration ${mine.duration_ms} ms`);
  } finally {
    await peer.close();
    await frankWs.close();
    await doomed.kill('SIGTERM');
  }
});
