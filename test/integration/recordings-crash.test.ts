// SIGKILL mid-stream (issue 4): the server process dies with a live stream;
// after a restart the recording is listed, plays, and holds all audio up to
// at most 1 s before the kill; no zombie stream remains and friends see the
// broadcaster offline.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseWavHeader } from '../../src/media/recording/wav.js';
import { startServer, type TestServer } from '../e2e/support/server.js';
import { Client } from '../support/test-app.js';
import { TestBroadcaster } from './media-peers.js';

let server: TestServer;
let broadcaster: TestBroadcaster | null = null;

before(async () => {
  // RECORD_FORMAT=wav: the WAV recorder's crash safety (recordings-opus.test.ts covers Opus).
  server = await startServer({ mode: 'child', env: { DENOISE_ENGINE: 'none', LOG_LEVEL: 'warn', RECORD_FORMAT: 'wav' } });
});
after(async () => {
  await broadcaster?.close().catch(() => {});
  await server?.close();
});

/** A continuous tone whose loudness changes every 100 ms: never silent, so lost audio shows as missing windows. */
function toneSignal(seconds: number): Float32Array {
  const out = new Float32Array(48_000 * seconds);
  for (let i = 0; i < out.length; i++) {
    const env = 0.2 + 0.1 * ((Math.floor(i / 4800) % 3) as number);
    out[i] = env * Math.sin((2 * Math.PI * 330 * i) / 48_000);
  }
  return out;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a server killed with SIGKILL mid-stream recovers the recording (≤ 1 s lost), leaves no zombie stream, and friends see the broadcaster offline', async (t) => {
  const ann = new Client(server.baseUrl);
  const bob = new Client(server.baseUrl);
  await ann.signup('ann');
  await bob.signup('bob');
  const req = await ann.post('/api/friends/requests', { username: 'bob' });
  assert.equal((await bob.post(`/api/friends/requests/${req.body.request.id}/accept`)).status, 200);

  const start = await ann.post('/api/stream/start/');
  assert.equal(start.status, 201, JSON.stringify(start.body));
  broadcaster = new TestBroadcaster();
  const offer = await ann.post('/api/webrtc/offer/', { session_id: start.body.stream.session_id, sdp: await broadcaster.offer() });
  assert.equal(offer.status, 200, JSON.stringify(offer.body));
  await broadcaster.accept(offer.body.sdp);
  void broadcaster.play(toneSignal(2), {}, true);

  const recordingsDir = path.join(server.dataDir, 'recordings');
  const fileOnDisk = (): string | null => {
    if (!existsSync(recordingsDir)) return null;
    const f = readdirSync(recordingsDir).find((n) => n.startsWith('ann_') && n.endsWith('.wav') && !n.endsWith('.raw.wav'));
    return f ? path.join(recordingsDir, f) : null;
  };
  // At least 3 s of audio reached the disk, then the process dies without any chance to clean up.
  await until(() => {
    const f = fileOnDisk();
    return f !== null && statSync(f).size > 44 + 3 * 96_000;
  }, 20_000, '3 s of recording on disk');
  // Kill between two flushes (the worst case is just before a flush).
  await new Promise((r) => setTimeout(r, 350));
  const sentMs = broadcaster.sent * 20;
  await server.stop('SIGKILL');
  broadcaster.stop();

  await server.restart();
  const list = await ann.get('/api/recordings/');
  assert.equal(list.status, 200);
  assert.equal(list.body.recordings.length, 1, JSON.stringify(list.body));
  const rec = list.body.recordings[0];
  assert.equal(rec.status, 'recovered');
  assert.equal(rec.owner, 'ann');

  const audio = await fetch(`${server.baseUrl}/api/recordings/${rec.id}/audio`, { headers: { cookie: bob.cookie } });
  assert.equal(audio.status, 200, 'the friend can play it');
  const bytes = Buffer.from(await audio.arrayBuffer());
  const h = parseWavHeader(bytes);
  assert.equal(h.dataSize, bytes.length - 44, 'a consistent, playable WAV');
  assert.equal(rec.size_bytes, bytes.length);
  assert.equal(rec.duration_ms, Math.round((h.dataSize / 2 / 48_000) * 1000));

  // Audio content: from the first sound to the end of the file is the streamed tone,
  // and it covers everything sent up to 1 s before the kill.
  const samples = h.dataSize / 2;
  const win = 4800;
  const rms = (w: number) => {
    let s = 0;
    for (let i = w * win; i < (w + 1) * win; i++) s += (bytes.readInt16LE(44 + 2 * i) / 32768) ** 2;
    return Math.sqrt(s / win);
  };
  const windows = Math.floor(samples / win);
  let first = 0;
  while (first < windows && rms(first) < 0.05) first++;
  assert.ok(first < windows, 'the recording holds the streamed tone');
  // A loaded machine may conceal a late packet now and then; the tail must be real audio, not zeros.
  let silent = 0;
  for (let w = first + 1; w < windows - 1; w++) if (rms(w) < 0.05) silent++;
  assert.ok(silent <= 0.2 * (windows - first), `${silent} of ${windows - first} windows silent`);
  assert.ok(rms(windows - 2) > 0.05 || rms(windows - 3) > 0.05, 'the last written audio is the streamed tone');
  const soundMs = ((samples - first * win) / 48_000) * 1000;
  t.diagnostic(`sent ${sentMs} ms before the kill; recovered ${soundMs.toFixed(0)} ms of sound (lost ${(sentMs - soundMs).toFixed(0)} ms)`);
  assert.ok(soundMs >= sentMs - 1000, `recovered ${soundMs.toFixed(0)} ms of sound, sent ${sentMs} ms before the kill`);
  assert.ok(soundMs <= sentMs + 200, `recovered ${soundMs.toFixed(0)} ms, more than the ${sentMs} ms sent`);

  // No zombie stream: ann is not live for herself nor for bob, and can go live again.
  const mine = await ann.get('/api/stream/status/');
  assert.equal(mine.body.me.is_streaming, false);
  const friends = await bob.get('/api/friends');
  const annForBob = friends.body.friends.find((f: { username: string }) => f.username === 'ann');
  assert.deepEqual({ online: annForBob.online, is_streaming: annForBob.is_streaming }, { online: false, is_streaming: false });
  const again = await ann.post('/api/stream/start/');
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.equal((await ann.post('/api/stream/stop/')).status, 200);
});
