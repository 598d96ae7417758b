// Every way a live stream ends, with the real media plane (worker threads,
// werift peers over the test namespace): each leaves no ActiveStream row, no
// media session, a finalized recording (or none at all when the broadcaster sent
// less than MIN_RECORDING_MS of audio), and friends told is_streaming:false.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../src/store/db.js';
import { startServer as startChildServer } from '../e2e/support/server.js';
import { BroadcasterPeer, ListenerPeer } from './streams-peers.js';
import { Client, befriend, eventually, receivedAudioMs, startServer, type TestServer, type WsClient } from './streams-harness.js';

const HOST = process.env.HUSHCAST_TEST_IP || '127.0.0.1';
const ENV = { DENOISE_ENGINE: 'none', NO_MEDIA_TIMEOUT_MS: '1000', MEDIA_WORKERS: '1' };

describe('stream cleanup with the real media plane', () => {
  let server: TestServer;
  let n = 0;
  const peers: Array<{ close(): Promise<void> }> = [];
  const clients: Client[] = [];

  before(async () => {
    server = await startServer({ host: HOST, env: ENV });
  });
  after(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    for (const c of clients) c.closeSockets();
    await server.close();
  });

  async function pair(): Promise<{ ann: Client; bob: Client; bobWs: WsClient }> {
    n++;
    const ann = await new Client(server.base).signup(`ann${n}`);
    const bob = await new Client(server.base).signup(`bob${n}`);
    clients.push(ann, bob);
    await befriend(ann, bob);
    return { ann, bob, bobWs: await bob.ws() };
  }

  async function liveBroadcast(ann: Client): Promise<{ sessionId: string; peer: BroadcasterPeer }> {
    const start = await ann.post('/api/stream/start/');
    assert.equal(start.status, 201);
    const peer = new BroadcasterPeer();
    peers.push(peer);
    await peer.connect(ann, start.body.stream.session_id);
    peer.startSending();
    return { sessionId: start.body.stream.session_id, peer };
  }

  /** A recording is kept only with MIN_RECORDING_MS (default 1 s) of received audio: streams that should keep one wait for it. */
  async function untilAudioReceived(sessionId: string, of: TestServer = server): Promise<void> {
    await eventually(
      async () => {
        assert.ok(of.app.services.media!.hasSession(sessionId), 'the session ended before 1.2 s of audio arrived');
        return (await receivedAudioMs(of, sessionId)) >= 1200;
      },
      15_000,
      '1.2 s of audio received',
    );
  }

  async function assertEnded(sessionId: string, bobWs: WsClient, annName: string, recording: 'kept' | 'none' = 'kept'): Promise<void> {
    await bobWs.waitFor((m) => m.type === 'streaming_status' && m.username === annName && m.is_streaming === false, 8000);
    await eventually(() => !server.app.services.media!.hasSession(sessionId), 5000, 'media session gone');
    assert.equal((await server.db.selectFrom('active_streams').selectAll().where('session_id', '=', sessionId).execute()).length, 0);
    const owner = await server.db.selectFrom('users').select('id').where('username', '=', annName).executeTakeFirstOrThrow();
    const recs = await server.db.selectFrom('stream_recordings').selectAll().where('owner_id', '=', owner.id).orderBy('id', 'desc').execute();
    if (recording === 'none') {
      assert.deepEqual(recs, [], 'a stream without audio keeps no recording');
    } else {
      assert.equal(recs[0]?.status, 'complete');
      assert.ok(recs[0]!.ended_at);
    }
    const offs = bobWs.messages.filter((m) => m.type === 'streaming_status' && m.username === annName && !m.is_streaming);
    assert.equal(offs.length, 1, 'friends are told exactly once');
  }

  test('a werift listener receives the broadcast; listener_count reaches the broadcaster; listen/stop frees it', async () => {
    const { ann, bob } = await pair();
    const annWs = await ann.ws();
    const { sessionId } = await liveBroadcast(ann);
    const listener = new ListenerPeer();
    peers.push(listener);
    const r = await listener.listen(bob, ann.username);
    assert.equal(r.status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 1);
    await eventually(() => listener.packets > 20, 5000, 'listener receives RTP');
    assert.equal((await bob.post('/api/webrtc/listen/stop/', { username: ann.username, listener_id: listener.listenerId })).status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 0);
    assert.equal(server.app.services.media!.listenerCount(sessionId), 0);
    assert.equal((await ann.post('/api/stream/stop/')).status, 200);
  });

  test("a listener's last WebSocket closing frees its peer connection on the server", async () => {
    const { ann, bob, bobWs } = await pair();
    const annWs = await ann.ws();
    const { sessionId } = await liveBroadcast(ann);
    const listener = new ListenerPeer();
    peers.push(listener);
    assert.equal((await listener.listen(bob, ann.username)).status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 1);
    await bobWs.close();
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 0);
    assert.equal(server.app.services.media!.listenerCount(sessionId), 0);
    assert.equal((await ann.post('/api/stream/stop/')).status, 200);
  });

  test('a second offer is 409; the stop route ends a live session: media session stopped, recording finalized with audio, friends told', async () => {
    const { ann, bobWs } = await pair();
    const { sessionId } = await liveBroadcast(ann);
    const second = new BroadcasterPeer();
    peers.push(second);
    await assert.rejects(second.connect(ann, sessionId), /offer: 409 .*INVALID_STATE/, 'a second broadcaster offer for a connected session is refused');
    await untilAudioReceived(sessionId);
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 200);
    assert.ok(stop.body.recording.duration_ms > 200, `recording holds the streamed audio (${stop.body.recording.duration_ms} ms)`);
    await assertEnded(sessionId, bobWs, ann.username);
  });

  test("the broadcaster's last WebSocket closing ends the stream", async () => {
    const { ann, bobWs } = await pair();
    const annWs = await ann.ws();
    const { sessionId } = await liveBroadcast(ann);
    await untilAudioReceived(sessionId);
    await annWs.close();
    await assertEnded(sessionId, bobWs, ann.username);
  });

  test('a broadcaster whose audio stops is ended after the no-media timeout', async () => {
    const { ann, bobWs } = await pair();
    const { sessionId, peer } = await liveBroadcast(ann);
    await untilAudioReceived(sessionId);
    peer.stopSending();
    await assertEnded(sessionId, bobWs, ann.username);
    assert.equal((await ann.post('/api/stream/stop/')).status, 409, 'nothing left to stop');
  });

  test('a broadcaster that never sends an offer is ended after the no-media timeout', async () => {
    const { ann, bobWs } = await pair();
    const start = await ann.post('/api/stream/start/');
    await assertEnded(start.body.stream.session_id, bobWs, ann.username, 'none');
  });

  test('a broadcaster whose peer connection goes away is ended (connection closed, no media)', async () => {
    const { ann, bobWs } = await pair();
    const { sessionId, peer } = await liveBroadcast(ann);
    await untilAudioReceived(sessionId);
    await peer.close();
    await assertEnded(sessionId, bobWs, ann.username);
  });

  test('a crashed media worker ends its streams: the partial recording is repaired and finalized, friends told', async () => {
    const { ann, bobWs } = await pair();
    const { sessionId } = await liveBroadcast(ann);
    await new Promise((r) => setTimeout(r, 1500)); // the recorder flushes at least every second
    const media = server.app.services.media as unknown as { crashWorkerOf(id: string): Promise<void> };
    await media.crashWorkerOf(sessionId);
    await assertEnded(sessionId, bobWs, ann.username);
    const owner = await server.db.selectFrom('users').select('id').where('username', '=', ann.username).executeTakeFirstOrThrow();
    const rec = await server.db.selectFrom('stream_recordings').selectAll().where('owner_id', '=', owner.id).executeTakeFirstOrThrow();
    assert.ok(rec.duration_ms > 300, `the written audio is kept (${rec.duration_ms} ms)`);
    assert.equal(statSync(path.join(server.config.recordingsDir, rec.file_name)).size, rec.size_bytes);
  });

  test('MAX_LISTENERS is enforced by the media plane: the next listener gets 409 LISTENER_LIMIT and no peer', async () => {
    const own = await startServer({ host: HOST, env: { ...ENV, MAX_LISTENERS: '1' } });
    try {
      const ann = await new Client(own.base).signup('ann');
      const bob = await new Client(own.base).signup('bob');
      await befriend(ann, bob);
      const start = await ann.post('/api/stream/start/');
      const peer = new BroadcasterPeer();
      const first = new ListenerPeer();
      const second = new ListenerPeer();
      peers.push(peer, first, second);
      await peer.connect(ann, start.body.stream.session_id);
      peer.startSending();
      assert.equal((await first.listen(bob, 'ann')).status, 200);
      const refused = await second.listen(bob, 'ann');
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'LISTENER_LIMIT');
      assert.equal(own.app.services.media!.listenerCount(start.body.stream.session_id), 1);
      assert.equal((await ann.post('/api/stream/stop/')).status, 200);
    } finally {
      await own.close();
    }
  });

  test('app.close() (what SIGTERM runs) ends live streams gracefully and friends hear about it first', async () => {
    const own = await startServer({ host: HOST, env: ENV });
    try {
      const ann = await new Client(own.base).signup('ann');
      const bob = await new Client(own.base).signup('bob');
      await befriend(ann, bob);
      const bobWs = await bob.ws();
      const start = await ann.post('/api/stream/start/');
      const peer = new BroadcasterPeer();
      peers.push(peer);
      await peer.connect(ann, start.body.stream.session_id);
      peer.startSending();
      await untilAudioReceived(start.body.stream.session_id, own);
      const dbFile = own.config.databaseUrl.slice('sqlite:'.length);
      await own.app.close();
      assert.ok(
        bobWs.messages.some((m) => m.type === 'streaming_status' && m.username === 'ann' && m.is_streaming === false),
        'bob was told before his socket closed',
      );
      const db = await openDatabase(`sqlite:${dbFile}`);
      try {
        assert.equal((await db.selectFrom('active_streams').selectAll().execute()).length, 0);
        const rec = await db.selectFrom('stream_recordings').selectAll().executeTakeFirstOrThrow();
        assert.equal(rec.status, 'complete');
        assert.ok(rec.duration_ms > 200);
        assert.equal(statSync(path.join(own.config.recordingsDir, rec.file_name)).size, rec.size_bytes);
      } finally {
        await db.destroy();
      }
    } finally {
      await own.close();
    }
  });
});

test('SIGTERM to the server process ends live streams: no ActiveStream row, the recording is complete', async () => {
  // The child's worker statistics are out of reach: any received audio keeps the recording here.
  const server = await startChildServer({ mode: 'child', env: { ...ENV, MIN_RECORDING_MS: '0' } });
  const peer = new BroadcasterPeer();
  try {
    const ann = await new Client(server.baseUrl).signup('ann');
    const start = await ann.post('/api/stream/start/');
    assert.equal(start.status, 201);
    await peer.connect(ann, start.body.stream.session_id);
    peer.startSending();
    await new Promise((r) => setTimeout(r, 500));
    await server.stop('SIGTERM');
    assert.equal(server.child, undefined);
    const db = await openDatabase(`sqlite:${path.join(server.dataDir, 'hushcast.db')}`);
    try {
      assert.equal((await db.selectFrom('active_streams').selectAll().execute()).length, 0);
      const rec = await db.selectFrom('stream_recordings').selectAll().executeTakeFirstOrThrow();
      assert.equal(rec.status, 'complete', server.output().slice(-2000));
      assert.ok(rec.duration_ms > 200);
    } finally {
      await db.destroy();
    }
  } finally {
    await peer.close();
    await server.close();
  }
});
