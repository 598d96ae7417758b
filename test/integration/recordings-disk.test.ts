// Disk problems during a live stream (issue 4): the recording cannot be made,
// the broadcaster is told (recording_stopped), the live stream goes on for
// listeners, nothing crashes, and no unplayable recording is listed.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type TestServer } from '../e2e/support/server.js';
import { Client } from '../support/test-app.js';
import { TestBroadcaster, TestListener } from './media-peers.js';

let dir: string;
let server: TestServer;
const peers: Array<{ close(): Promise<void> }> = [];

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hc-rec-disk-'));
  const notADir = path.join(dir, 'plain-file');
  writeFileSync(notADir, 'x');
  // A recordings folder that cannot exist (its parent is a file): every recording fails to open.
  server = await startServer({ env: { DENOISE_ENGINE: 'none', LOG_LEVEL: 'silent' }, configOverrides: { recordingsDir: path.join(notADir, 'recordings') } });
});
after(async () => {
  for (const p of peers) await p.close().catch(() => {});
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function tone(seconds: number): Float32Array {
  const out = new Float32Array(48_000 * seconds);
  for (let i = 0; i < out.length; i++) out[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 48_000);
  return out;
}

test('with an unwritable recordings folder the broadcaster is told recording stopped, listeners still hear the stream, and no recording is listed', async () => {
  const ann = new Client(server.baseUrl);
  const bob = new Client(server.baseUrl);
  await ann.signup('ann');
  await bob.signup('bob');
  const req = await ann.post('/api/friends/requests', { username: 'bob' });
  assert.equal((await bob.post(`/api/friends/requests/${req.body.request.id}/accept`)).status, 200);
  const [annWs, bobWs] = await Promise.all([ann.socket(), bob.socket()]);

  const start = await ann.post('/api/stream/start/');
  assert.equal(start.status, 201, JSON.stringify(start.body));
  const notice = await annWs.next((m) => m.type === 'recording_stopped', 10_000);
  assert.match(notice.message, /Recording stopped/);
  assert.match(notice.message, /ENOTDIR|EEXIST|cannot create/);
  await bobWs.assertNone((m) => m.type === 'recording_stopped');

  const broadcaster = new TestBroadcaster();
  peers.push(broadcaster);
  const offer = await ann.post('/api/webrtc/offer/', { session_id: start.body.stream.session_id, sdp: await broadcaster.offer() });
  assert.equal(offer.status, 200, JSON.stringify(offer.body));
  await broadcaster.accept(offer.body.sdp);
  const playing = broadcaster.play(tone(2), {}, true);
  const listener = new TestListener(10);
  peers.push(listener);
  const listen = await bob.post('/api/webrtc/listen/', { username: 'ann', sdp: await listener.offer() });
  assert.equal(listen.status, 200, JSON.stringify(listen.body));
  await listener.accept(listen.body.sdp);
  const deadline = Date.now() + 10_000;
  while (listener.packets < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(listener.packets >= 50, `the listener received ${listener.packets} packets`);

  broadcaster.stop();
  void playing;
  const stop = await ann.post('/api/stream/stop/');
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  assert.equal(stop.body.recording ?? null, null);
  assert.deepEqual((await ann.get('/api/recordings/')).body.recordings, []);
  assert.equal((await server.app!.services.db.selectFrom('stream_recordings').selectAll().execute()).length, 0);
  assert.equal((await ann.get('/api/health')).status, 200, 'the server is fine');
  await Promise.all([annWs.close(), bobWs.close()]);
});
