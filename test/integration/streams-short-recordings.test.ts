// Streams without real audio leave no recording behind and announce none
// (issue 11, finding 9): a recording is kept only with at least MIN_RECORDING_MS
// of audio received from the broadcaster. Real server, real media worker, werift.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { BroadcasterPeer } from './streams-peers.js';
import { Client, befriend, eventually, receivedAudioMs, startServer, type TestServer, type WsClient } from './streams-harness.js';

const HOST = process.env.HUSHCAST_TEST_IP || '127.0.0.1';
const ENV = { DENOISE_ENGINE: 'none', MEDIA_WORKERS: '1' };
/** Short where a stream without media must end by itself; long where a broadcaster may take a while to connect on a busy machine. */
const NO_MEDIA_SHORT = '1000';
const NO_MEDIA_LONG = '20000';

describe('short recordings', () => {
  const servers = new Map<string, TestServer>();
  const peers: BroadcasterPeer[] = [];
  const clients: Client[] = [];
  let n = 0;

  after(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    for (const c of clients) c.closeSockets();
    for (const s of servers.values()) await s.close();
  });

  /** One server per setting (MIN_RECORDING_MS '' = the default). */
  async function serverWith(minRecordingMs: string, noMediaMs: string): Promise<TestServer> {
    const key = `${minRecordingMs}/${noMediaMs}`;
    let server = servers.get(key);
    if (!server) {
      const env: Record<string, string> = { ...ENV, NO_MEDIA_TIMEOUT_MS: noMediaMs };
      if (minRecordingMs) env.MIN_RECORDING_MS = minRecordingMs;
      server = await startServer({ host: HOST, env });
      servers.set(key, server);
    }
    return server;
  }

  async function untilAudioReceived(server: TestServer, sessionId: string, ms: number): Promise<void> {
    await eventually(
      async () => {
        assert.ok(server.app.services.media!.hasSession(sessionId), `the session ended before ${ms} ms of audio arrived`);
        return (await receivedAudioMs(server, sessionId)) >= ms;
      },
      15_000,
      `${ms} ms of audio received`,
    );
  }

  async function pair(server: TestServer): Promise<{ ann: Client; bob: Client; annWs: WsClient; bobWs: WsClient }> {
    n++;
    const ann = await new Client(server.base).signup(`ann${n}`);
    const bob = await new Client(server.base).signup(`bob${n}`);
    clients.push(ann, bob);
    await befriend(ann, bob);
    return { ann, bob, annWs: await ann.ws(), bobWs: await bob.ws() };
  }

  /**
   * After the stream's end reached both sides (is_streaming:false is published after any
   * recording_added, on the same topic), nothing was announced and nothing was kept.
   */
  async function assertNothingKept(server: TestServer, ann: Client, bob: Client, annWs: WsClient, bobWs: WsClient): Promise<void> {
    for (const ws of [annWs, bobWs]) {
      await ws.waitFor((m) => m.type === 'streaming_status' && m.username === ann.username && m.is_streaming === false, 10_000);
      assert.deepEqual(ws.messages.filter((m) => m.type === 'recording_added'), [], 'no recording announced');
    }
    const owner = await server.db.selectFrom('users').select('id').where('username', '=', ann.username).executeTakeFirstOrThrow();
    assert.deepEqual(await server.db.selectFrom('stream_recordings').selectAll().where('owner_id', '=', owner.id).execute(), [], 'no recording row');
    assert.deepEqual(readdirSync(server.config.recordingsDir).filter((f) => f.startsWith(`${ann.username}_`)), [], 'no recording file');
    assert.deepEqual((await bob.get(`/api/recordings/?owner=${ann.username}`)).body.recordings, []);
    assert.deepEqual((await ann.get('/api/recordings/')).body.recordings, []);
  }

  test('a stream started and stopped at once keeps no recording and announces none', async () => {
    const server = await serverWith('', NO_MEDIA_SHORT);
    const { ann, bob, annWs, bobWs } = await pair(server);
    assert.equal((await ann.post('/api/stream/start/')).status, 201);
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 200);
    assert.equal(stop.body.recording, undefined);
    await assertNothingKept(server, ann, bob, annWs, bobWs);
  });

  test('a stream that never receives media keeps no recording when the no-media timeout ends it', async () => {
    const server = await serverWith('', NO_MEDIA_SHORT);
    const { ann, bob, annWs, bobWs } = await pair(server);
    assert.equal((await ann.post('/api/stream/start/')).status, 201);
    await assertNothingKept(server, ann, bob, annWs, bobWs);
  });

  test('a stream with received audio below MIN_RECORDING_MS keeps no recording and announces none', async () => {
    const server = await serverWith('600000', NO_MEDIA_LONG);
    const { ann, bob, annWs, bobWs } = await pair(server);
    const start = await ann.post('/api/stream/start/');
    const sessionId = start.body.stream.session_id;
    const peer = new BroadcasterPeer();
    peers.push(peer);
    await peer.connect(ann, sessionId);
    peer.startSending();
    await untilAudioReceived(server, sessionId, 500);
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 200);
    assert.equal(stop.body.recording, undefined);
    await peer.close();
    await assertNothingKept(server, ann, bob, annWs, bobWs);
  });

  test('a stream with at least MIN_RECORDING_MS of received audio keeps its recording and announces it', async () => {
    const server = await serverWith('', NO_MEDIA_LONG);
    const { ann, bobWs } = await pair(server);
    const start = await ann.post('/api/stream/start/');
    const sessionId = start.body.stream.session_id;
    const peer = new BroadcasterPeer();
    peers.push(peer);
    await peer.connect(ann, sessionId);
    peer.startSending();
    await untilAudioReceived(server, sessionId, 1200);
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 200);
    assert.ok(stop.body.recording.duration_ms >= 1000, `duration ${stop.body.recording.duration_ms} ms`);
    const added = await bobWs.waitFor((m) => m.type === 'recording_added');
    assert.equal(added.recording.id, stop.body.recording.id);
    await peer.close();
  });
});
