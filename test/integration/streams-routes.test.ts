// Streaming route rules that involve no audio: who may start, offer, listen and
// stop, what bad input is answered with, and that refused requests change
// nothing in the tables. The media plane here is a tiny stand-in that only
// keeps a session set (media behaviour is covered with the real media plane in
// streams-media.test.ts and streams-cleanup.test.ts).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { DenoiseEngineName } from '../../src/config.js';
import type { DenoiseParams } from '../../src/denoise/denoiser.js';
import {
  MediaError,
  type MediaPlane,
  type MediaPlaneEvents,
  type SessionEndReason,
  type SessionSummary,
  type StartSessionOptions,
} from '../../src/media/media-plane.js';
import { Client, befriend, eventually, startServer, tableCounts, type TestServer } from './streams-harness.js';

/** Keeps sessions in a map; answers any SDP containing "m=audio" with a fixed answer. */
class SessionSetMediaPlane implements MediaPlane {
  readonly sessions = new Map<string, StartSessionOptions & { listeners: Set<string>; params: DenoiseParams }>();
  private readonly events = new EventEmitter();
  maxListeners = 2;

  async startSession(opts: StartSessionOptions): Promise<{ engine: DenoiseEngineName }> {
    this.sessions.set(opts.sessionId, { ...opts, listeners: new Set(), params: opts.denoise });
    return { engine: opts.engine };
  }
  async answerBroadcaster(sessionId: string, offerSdp: string): Promise<string> {
    this.session(sessionId);
    if (offerSdp.includes('a=garbage')) throw new MediaError('bad-sdp', 'cannot parse');
    return 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
  }
  async addListener(sessionId: string, listenerId: string): Promise<string> {
    const s = this.session(sessionId);
    if (s.listeners.size >= this.maxListeners) throw new MediaError('listener-limit', 'full');
    s.listeners.add(listenerId);
    this.events.emit('listenerCountChanged', sessionId, s.listeners.size);
    return 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
  }
  async removeListener(sessionId: string, listenerId: string): Promise<void> {
    const s = this.session(sessionId);
    s.listeners.delete(listenerId);
    this.events.emit('listenerCountChanged', sessionId, s.listeners.size);
  }
  async setDenoiseParams(sessionId: string, params: DenoiseParams): Promise<void> {
    this.session(sessionId).params = params;
  }
  async stopSession(sessionId: string, _reason: SessionEndReason): Promise<SessionSummary | null> {
    const s = this.sessions.get(sessionId);
    if (!s) return null;
    this.sessions.delete(sessionId);
    return {
      sessionId,
      engine: s.engine,
      durationMs: 1234,
      receivedAudioMs: 1200,
      recording: s.recording ? { ...s.recording, durationMs: 1200, sizeBytes: 44 + 1200 * 96, sampleRate: 48000, complete: true, error: null } : null,
    };
  }
  listenerCount(sessionId: string): number {
    return this.sessions.get(sessionId)?.listeners.size ?? 0;
  }
  engineStatus() {
    return { engine: 'none' as DenoiseEngineName, fallbackReason: null };
  }
  hasSession(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }
  on<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void {
    this.events.on(event, listener);
  }
  off<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void {
    this.events.off(event, listener);
  }
  /** What the real plane does on a no-media timeout. */
  endOnItsOwn(sessionId: string, reason: SessionEndReason): void {
    const s = this.sessions.get(sessionId)!;
    this.sessions.delete(sessionId);
    this.events.emit('sessionEnded', { sessionId, engine: s.engine, durationMs: 10, receivedAudioMs: 0, recording: null }, reason);
  }
  async close(): Promise<void> {
    this.sessions.clear();
  }
  private session(id: string) {
    const s = this.sessions.get(id);
    if (!s) throw new MediaError('no-such-session', `no session ${id}`);
    return s;
  }
}

/** A well-formed audio offer (the routes check offers before the media plane sees them). */
const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuv',
  `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => 'AB').join(':')}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  '',
].join('\r\n');

describe('streaming routes', () => {
  let server: TestServer;
  let media: SessionSetMediaPlane;
  let ann: Client;
  let bob: Client;
  let eve: Client;
  let n = 0;

  before(async () => {
    media = new SessionSetMediaPlane();
    server = await startServer({ media });
  });
  after(async () => {
    for (const c of [ann, bob, eve]) c?.closeSockets();
    await server.close();
  });
  beforeEach(async () => {
    // Fresh people per test: tests never see each other's streams.
    n++;
    ann = await new Client(server.base).signup(`ann${n}`);
    bob = await new Client(server.base).signup(`bob${n}`);
    eve = await new Client(server.base).signup(`eve${n}`);
    await befriend(ann, bob);
  });

  async function rowsOf(c: Client) {
    const user = await server.db.selectFrom('users').select('id').where('username', '=', c.username).executeTakeFirstOrThrow();
    const active = await server.db.selectFrom('active_streams').selectAll().where('user_id', '=', user.id).execute();
    const recordings = await server.db.selectFrom('stream_recordings').selectAll().where('owner_id', '=', user.id).execute();
    return { active, recordings };
  }

  test('start creates the ActiveStream and recording rows and tells friends and self within the request', async () => {
    const annWs = await ann.ws();
    const bobWs = await bob.ws();
    const eveWs = await eve.ws();
    const r = await ann.post('/api/stream/start/');
    assert.equal(r.status, 201);
    assert.match(r.body.stream.session_id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.stream.engine, 'none');
    assert.equal(r.body.stream.atten_lim_db, null, 'full strength unless DFN_ATTEN_LIM_DB says otherwise');
    const { active, recordings } = await rowsOf(ann);
    assert.equal(active.length, 1);
    assert.equal(active[0]!.session_id, r.body.stream.session_id);
    assert.equal(active[0]!.recording_id, recordings[0]!.id);
    assert.equal(recordings[0]!.status, 'recording');
    assert.match(recordings[0]!.file_name, new RegExp(`^${ann.username}_\\d{8}T\\d{6}_\\d{3}Z\\.opus$`), 'Ogg Opus by default (RECORD_FORMAT)');
    const session = media.sessions.get(r.body.stream.session_id)!;
    assert.equal(session.recording!.filePath, `${server.config.recordingsDir}/${recordings[0]!.file_name}`);
    for (const ws of [annWs, bobWs]) {
      const m = await ws.waitFor((x) => x.type === 'streaming_status');
      assert.deepEqual(m, { type: 'streaming_status', username: ann.username, is_streaming: true, started_at: r.body.stream.started_at });
    }
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(eveWs.messages.filter((m) => m.type === 'streaming_status').length, 0, 'a non-friend learns nothing');
    const status = await bob.get('/api/stream/status/');
    assert.deepEqual(status.body.friends, [{ username: ann.username, online: true, is_streaming: true, started_at: r.body.stream.started_at, listeners: 0 }]);
    const own = await ann.get('/api/stream/status/');
    assert.equal(own.body.me.is_streaming, true);
    assert.equal(own.body.me.started_at, r.body.stream.started_at);
    assert.equal(own.body.me.engine, 'none');
    await ann.post('/api/stream/stop/');
  });

  test('a second start is refused with 409 ALREADY_STREAMING and concurrent starts create exactly one stream', async () => {
    const starts = await Promise.all(Array.from({ length: 6 }, () => ann.post('/api/stream/start/')));
    assert.deepEqual(starts.map((s) => s.status).sort(), [201, 409, 409, 409, 409, 409]);
    for (const s of starts.filter((x) => x.status === 409)) assert.equal(s.body.error.code, 'ALREADY_STREAMING');
    const { active, recordings } = await rowsOf(ann);
    assert.equal(active.length, 1);
    assert.equal(recordings.length, 1, 'a refused start leaves no recording row');
    assert.equal([...media.sessions.values()].filter((s) => s.ownerName === ann.username).length, 1);
    const again = await ann.post('/api/stream/start/');
    assert.equal(again.status, 409);
    await ann.post('/api/stream/stop/');
  });

  test('stop finalizes the recording from the media summary, removes the row and tells friends is_streaming false', async () => {
    const bobWs = await bob.ws();
    const start = await ann.post('/api/stream/start/');
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 200);
    assert.match(stop.body.message, /ended/);
    assert.equal(stop.body.recording.owner, ann.username);
    assert.equal(stop.body.recording.duration_ms, 1200);
    assert.equal(stop.body.recording.status, 'complete');
    const { active, recordings } = await rowsOf(ann);
    assert.equal(active.length, 0);
    assert.equal(recordings[0]!.status, 'complete');
    assert.ok(recordings[0]!.ended_at);
    assert.equal(media.hasSession(start.body.stream.session_id), false);
    await bobWs.waitFor((m) => m.type === 'streaming_status' && m.is_streaming === false && m.username === ann.username);
    await bobWs.waitFor((m) => m.type === 'recording_added' && m.recording.id === stop.body.recording.id);
  });

  test('stop when not live is 409 NOT_STREAMING and changes nothing', async () => {
    const before = await tableCounts(server.db);
    const r = await ann.post('/api/stream/stop/');
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'NOT_STREAMING');
    assert.deepEqual(await tableCounts(server.db), before);
  });

  test('a sendBeacon-style stop (empty or text/plain body, with Origin) ends the stream; without Origin it is refused', async () => {
    await ann.post('/api/stream/start/');
    const noOrigin = await fetch(`${server.base}/api/stream/stop/`, { method: 'POST', headers: { cookie: ann.cookie } });
    assert.equal(noOrigin.status, 403);
    assert.equal(((await noOrigin.json()) as any).error.code, 'CSRF_ORIGIN');
    assert.equal((await rowsOf(ann)).active.length, 1, 'a refused stop leaves the stream live');

    const empty = await fetch(`${server.base}/api/stream/stop/`, { method: 'POST', headers: { cookie: ann.cookie, origin: server.base } });
    assert.equal(empty.status, 200);
    assert.equal((await rowsOf(ann)).active.length, 0);

    await ann.post('/api/stream/start/');
    const text = await ann.post('/api/stream/stop/', '', { 'content-type': 'text/plain;charset=UTF-8' });
    assert.equal(text.status, 200);
    assert.equal((await rowsOf(ann)).active.length, 0);
  });

  test('the broadcaster offer: someone else’s session is 404 NO_SUCH_STREAM, malformed or oversized SDP is 400 BAD_SDP, oversized body 413', async () => {
    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    const before = await tableCounts(server.db);

    const ok = await ann.post('/api/webrtc/offer/', { session_id: sid, sdp: OFFER });
    assert.equal(ok.status, 200);
    assert.match(ok.body.sdp, /^v=0/);

    const foreign = await bob.post('/api/webrtc/offer/', { session_id: sid, sdp: OFFER });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'NO_SUCH_STREAM');
    const unknown = await ann.post('/api/webrtc/offer/', { session_id: '00000000-0000-0000-0000-000000000000', sdp: OFFER });
    assert.equal(unknown.body.error.code, 'NO_SUCH_STREAM');

    for (const sdp of ['hello', 'v=0\r\ns=-\r\n', '']) {
      const r = await ann.post('/api/webrtc/offer/', { session_id: sid, sdp });
      assert.equal(r.status, 400, sdp);
      assert.equal(r.body.error.code, 'BAD_SDP');
    }
    const rejected = await ann.post('/api/webrtc/offer/', { session_id: sid, sdp: OFFER + 'a=garbage\r\n' });
    assert.equal(rejected.status, 400);
    assert.equal(rejected.body.error.code, 'BAD_SDP');
    const big = await ann.post('/api/webrtc/offer/', { session_id: sid, sdp: OFFER + 'a=x\r\n'.repeat(8000) });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.code, 'BAD_SDP');
    const huge = await ann.post('/api/webrtc/offer/', { session_id: sid, sdp: OFFER + 'a=x\r\n'.repeat(20000) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.error.code, 'BODY_TOO_LARGE');
    const missing = await ann.post('/api/webrtc/offer/', { session_id: sid });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.code, 'VALIDATION');
    assert.match(missing.body.error.message, /sdp/);
    const badJson = await ann.post('/api/webrtc/offer/', '{"session_id":', { 'content-type': 'application/json' });
    assert.equal(badJson.status, 400);
    assert.equal(badJson.body.error.code, 'BAD_JSON');

    assert.deepEqual(await tableCounts(server.db), before, 'refused offers change no table');
    assert.equal(media.hasSession(sid), true, 'and the stream stays live');
    await ann.post('/api/stream/stop/');
  });

  test('listening: friends only (403 NOT_FRIENDS), 404 NOT_STREAMING when not live, 409 LISTENER_LIMIT when full', async () => {
    const notLive = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(notLive.status, 404);
    assert.equal(notLive.body.error.code, 'NOT_STREAMING');

    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    const stranger = await eve.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.body.error.code, 'NOT_FRIENDS');
    const nobody = await eve.post('/api/webrtc/listen/', { username: 'no_such_user', sdp: OFFER });
    assert.equal(nobody.status, 403);
    const self = await ann.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(self.status, 403);
    const bad = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: 'nonsense' });
    assert.equal(bad.body.error.code, 'BAD_SDP');
    assert.equal(media.listenerCount(sid), 0, 'no refused listener reached the media plane');

    const annWs = await ann.ws();
    const l1 = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(l1.status, 200);
    assert.match(l1.body.listener_id, /^[0-9a-f-]{36}$/);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 1);
    const l2 = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(l2.status, 200);
    const l3 = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(l3.status, 409);
    assert.equal(l3.body.error.code, 'LISTENER_LIMIT');
    assert.equal((await ann.get('/api/stream/status/')).body.me.listeners, 2);

    const foreignStop = await eve.post('/api/webrtc/listen/stop/', { username: ann.username, listener_id: l1.body.listener_id });
    assert.equal(foreignStop.status, 404, "nobody can stop someone else's listener");
    const stop = await bob.post('/api/webrtc/listen/stop/', { username: ann.username, listener_id: l1.body.listener_id });
    assert.equal(stop.status, 200);
    // The listen panel's pagehide beacon: JSON as text/plain.
    const beacon = await bob.post('/api/webrtc/listen/stop/', JSON.stringify({ username: ann.username, listener_id: l2.body.listener_id }));
    assert.equal(beacon.status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 0);
    assert.equal(media.listenerCount(sid), 0);
    const again = await bob.post('/api/webrtc/listen/stop/', { username: ann.username, listener_id: l2.body.listener_id });
    assert.equal(again.status, 404);
    await ann.post('/api/stream/stop/');
  });

  test('a listener whose friendship ends is dropped from the stream at once', async () => {
    const annWs = await ann.ws();
    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    const l = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(l.status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 1);
    assert.equal((await ann.request('DELETE', `/api/friends/${bob.username}`)).status, 200);
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 0);
    assert.equal(media.listenerCount(sid), 0);
    const again = await bob.post('/api/webrtc/listen/', { username: ann.username, sdp: OFFER });
    assert.equal(again.status, 403);
    await ann.post('/api/stream/stop/');
  });

  test('live noise-reduction strength reaches the media session; out of range is 400, not live is 409', async () => {
    const notLive = await ann.post('/api/stream/denoise/', { atten_lim_db: 12 });
    assert.equal(notLive.status, 409);
    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    for (const v of [12, 0, null]) {
      const r = await ann.post('/api/stream/denoise/', { atten_lim_db: v });
      assert.equal(r.status, 200);
      assert.deepEqual(media.sessions.get(sid)!.params, { attenLimDb: v });
    }
    for (const bad of [{ atten_lim_db: -1 }, { atten_lim_db: 1000 }, { atten_lim_db: 'loud' }, {}]) {
      const r = await ann.post('/api/stream/denoise/', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(r.body.error.code, 'VALIDATION');
    }
    assert.equal((await ann.get('/api/stream/status/')).body.me.atten_lim_db, null);
    await ann.post('/api/stream/stop/');
  });

  test('every streaming route needs a session (401) and state changes need this site’s Origin (403)', async () => {
    const anon = new Client(server.base);
    for (const [method, url] of [
      ['POST', '/api/stream/start/'],
      ['POST', '/api/stream/stop/'],
      ['POST', '/api/webrtc/offer/'],
      ['POST', '/api/webrtc/listen/'],
      ['POST', '/api/webrtc/listen/stop/'],
      ['POST', '/api/stream/denoise/'],
      ['GET', '/api/stream/status/'],
    ] as const) {
      const r = await anon.request(method, url, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 401, url);
      assert.equal(r.body.error.code, 'NOT_SIGNED_IN');
    }
    const forged = await ann.post('/api/stream/start/', {}, { origin: 'http://evil.example' });
    assert.equal(forged.status, 403);
    assert.equal((await rowsOf(ann)).active.length, 0);
  });

  test('the broadcaster’s last WebSocket closing ends the stream; one of two tabs closing does not', async () => {
    const bobWs = await bob.ws();
    const tab1 = await ann.ws();
    const tab2 = await ann.ws();
    const start = await ann.post('/api/stream/start/');
    await tab1.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await rowsOf(ann)).active.length, 1, 'still live with a tab open');
    await tab2.close();
    await eventually(async () => (await rowsOf(ann)).active.length === 0, 5000, 'ActiveStream row removed');
    assert.equal(media.hasSession(start.body.stream.session_id), false);
    await bobWs.waitFor((m) => m.type === 'streaming_status' && m.username === ann.username && m.is_streaming === false);
    assert.equal((await rowsOf(ann)).recordings[0]!.status, 'complete');
  });

  test('stop, the last WebSocket closing and a media-plane end racing each other end the stream once', async () => {
    const bobWs = await bob.ws();
    const annWs = await ann.ws();
    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    const [stop] = await Promise.all([ann.post('/api/stream/stop/'), annWs.close(), Promise.resolve().then(() => media.hasSession(sid) && media.endOnItsOwn(sid, 'no-media'))]);
    assert.ok(stop.status === 200 || stop.status === 409, `stop answered ${stop.status}`);
    await eventually(async () => (await rowsOf(ann)).active.length === 0);
    await new Promise((r) => setTimeout(r, 200));
    const offs = bobWs.messages.filter((m) => m.type === 'streaming_status' && m.username === ann.username && !m.is_streaming);
    assert.equal(offs.length, 1, 'friends are told once');
    // This stand-in media plane writes no file, so the recording row is removed rather than finalized; none stays 'recording'.
    assert.deepEqual((await rowsOf(ann)).recordings.filter((r) => r.status === 'recording'), []);
  });

  test('a session the media plane ends on its own (no media) is cleaned up exactly once', async () => {
    const bobWs = await bob.ws();
    const start = await ann.post('/api/stream/start/');
    const sid = start.body.stream.session_id;
    media.endOnItsOwn(sid, 'no-media');
    await bobWs.waitFor((m) => m.type === 'streaming_status' && m.username === ann.username && m.is_streaming === false);
    await eventually(async () => (await rowsOf(ann)).active.length === 0);
    const stop = await ann.post('/api/stream/stop/');
    assert.equal(stop.status, 409, 'a later stop finds nothing to stop');
    await new Promise((r) => setTimeout(r, 100));
    const offs = bobWs.messages.filter((m) => m.type === 'streaming_status' && m.username === ann.username && !m.is_streaming);
    assert.equal(offs.length, 1, 'friends are told once');
  });
});

test('server shutdown ends every live stream: rows removed, recordings finalized, media sessions stopped', async () => {
  const media = new SessionSetMediaPlane();
  const server = await startServer({ media });
  try {
    const ann = await new Client(server.base).signup('ann');
    const bob = await new Client(server.base).signup('bob');
    await ann.post('/api/stream/start/');
    await bob.post('/api/stream/start/');
    assert.equal(media.sessions.size, 2);
    // The database is closed by app.close(): inspect it afterwards through a new connection.
    const dbFile = server.config.databaseUrl.slice('sqlite:'.length);
    await server.app.close();
    assert.equal(media.sessions.size, 0);
    const { openDatabase } = await import('../../src/store/db.js');
    const check = await openDatabase(`sqlite:${dbFile}`);
    assert.equal((await check.selectFrom('active_streams').selectAll().execute()).length, 0);
    const recs = await check.selectFrom('stream_recordings').selectAll().execute();
    assert.deepEqual(recs.map((r) => r.status), ['complete', 'complete']);
    await check.destroy();
  } finally {
    await server.close();
  }
});

test('stale ActiveStream rows from a crashed run are removed at start-up and friends see the user not live', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-stale-'));
  try {
    const first = await startServer({ media: new SessionSetMediaPlane(), dir });
    const ann = await new Client(first.base).signup('ann');
    const bob = await new Client(first.base).signup('bob');
    await befriend(ann, bob);
    const start = await ann.post('/api/stream/start/');
    // A crash: the rows stay because nothing ends the stream (simulated by writing the row back after a clean close).
    const row = await first.db.selectFrom('active_streams').selectAll().executeTakeFirstOrThrow();
    const dbFile = first.config.databaseUrl.slice('sqlite:'.length);
    await first.close();
    const { openDatabase } = await import('../../src/store/db.js');
    const db = await openDatabase(`sqlite:${dbFile}`);
    await db.insertInto('active_streams').values({ ...row, id: undefined as never }).execute();
    await db.destroy();
    assert.equal(start.status, 201);

    const second = await startServer({ media: new SessionSetMediaPlane(), dir });
    try {
      assert.equal((await second.db.selectFrom('active_streams').selectAll().execute()).length, 0);
      const bob2 = new Client(second.base);
      assert.equal((await bob2.post('/api/auth/signin', { username: 'bob', password: 'correct horse battery' })).status, 200);
      const status = await bob2.get('/api/stream/status/');
      assert.deepEqual(status.body.friends.map((f: any) => [f.username, f.is_streaming]), [['ann', false]]);
      const ann2 = new Client(second.base);
      await ann2.post('/api/auth/signin', { username: 'ann', password: 'correct horse battery' });
      assert.equal((await ann2.post('/api/stream/start/')).status, 201, 'ann can go live again');
      await ann2.post('/api/stream/stop/');
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
