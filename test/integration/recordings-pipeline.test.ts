// The recording of a real stream (werift broadcaster → server → recorder, engine
// `none`): its audio lasts exactly as long as what was streamed (within 20 ms),
// equals the input after the Opus round trip (by correlation), and the owner and
// friends are told about it in real time when the stream stops.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { SessionSummary } from '../../src/media/media-plane.js';
import type { WorkerStats } from '../../src/media/workers/worker-protocol.js';
import { parseWavHeader } from '../../src/media/recording/wav.js';
import { startServer, type TestServer } from '../e2e/support/server.js';
import { Client } from '../support/test-app.js';
import { TestBroadcaster } from './media-peers.js';

const RATE = 48_000;
let server: TestServer;
let broadcaster: TestBroadcaster | null = null;
/** What the media plane reported for each stopped session (its own measure of the streamed duration). */
const summaries: SessionSummary[] = [];

before(async () => {
  // RECORD_FORMAT=wav: the WAV recorder, kept for RECORD_FORMAT=wav (recordings-opus.test.ts covers Opus).
  server = await startServer({ env: { DENOISE_ENGINE: 'none', RECORD_FORMAT: 'wav' } });
  // Observe (not replace) the real media plane's stop results.
  const media = server.app!.services.media!;
  const stopSession = media.stopSession.bind(media);
  media.stopSession = async (id, reason) => {
    const summary = await stopSession(id, reason);
    if (summary) summaries.push(summary);
    return summary;
  };
});
after(async () => {
  await broadcaster?.close().catch(() => {});
  await server?.close();
});

/** A 3 s linear chirp 200 → 2000 Hz with 5 ms fades: sharp onset and offset, sharp autocorrelation. */
function chirp(seconds: number): Float32Array {
  const n = RATE * seconds;
  const out = new Float32Array(n);
  const f0 = 200;
  const f1 = 2000;
  const fade = RATE * 0.005;
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const phase = 2 * Math.PI * (f0 * t + ((f1 - f0) / (2 * seconds)) * t * t);
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[i] = 0.3 * env * Math.sin(phase);
  }
  return out;
}

function readPcm(bytes: Buffer): Float32Array {
  const h = parseWavHeader(bytes);
  const out = new Float32Array(h.dataSize / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(h.dataOffset + 2 * i) / 32768;
  return out;
}

/** Max normalized cross-correlation of `a` against `b` shifted by lags in [-maxLag, maxLag]. */
function bestCorrelation(a: Float32Array, b: Float32Array, offset: number, maxLag: number): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < a.length; i++) {
      const j = offset + lag + i;
      if (j < 0 || j >= b.length) continue;
      ab += a[i]! * b[j]!;
      aa += a[i]! * a[i]!;
      bb += b[j]! * b[j]!;
    }
    const r = ab / Math.sqrt(aa * bb || 1);
    if (r > best.r) best = { r, lag };
  }
  return best;
}

test('a stopped stream\'s recording lasts as long as the live stream (within 20 ms), holds the streamed audio (correlated with the input) and is announced to owner and friends', async (t) => {
  const ann = new Client(server.baseUrl);
  const bob = new Client(server.baseUrl);
  const cid = new Client(server.baseUrl);
  await ann.signup('ann');
  await bob.signup('bob');
  await cid.signup('cid');
  const req = await ann.post('/api/friends/requests', { username: 'bob' });
  assert.equal((await bob.post(`/api/friends/requests/${req.body.request.id}/accept`)).status, 200);
  const [annWs, bobWs, cidWs] = await Promise.all([ann.socket(), bob.socket(), cid.socket()]);

  const start = await ann.post('/api/stream/start/');
  assert.equal(start.status, 201, JSON.stringify(start.body));
  broadcaster = new TestBroadcaster();
  const offer = await ann.post('/api/webrtc/offer/', { session_id: start.body.stream.session_id, sdp: await broadcaster.offer() });
  assert.equal(offer.status, 200, JSON.stringify(offer.body));
  await broadcaster.accept(offer.body.sdp);
  const input = chirp(3);
  await broadcaster.play(input);
  const streamedMs = broadcaster.sent * 20;
  // Let the jitter buffer drain the last packets, then stop.
  await new Promise((r) => setTimeout(r, 400));
  // The jitter buffer's own account of frames it added (expanded) or dropped (accelerated), and of hops the clock skipped.
  const stats = await (server.app!.services.media as unknown as { workerStats(): Promise<WorkerStats[]> }).workerStats();
  const session = stats.flatMap((w) => w.perSession as Array<{ sessionId: string; jitter: { expanded: number; accelerated: number } }>).find((x) => x.sessionId === start.body.stream.session_id)!;
  const skippedHops = stats.reduce((n, w) => n + w.clock.skippedHops, 0);
  const { expanded, accelerated } = session.jitter;
  const stop = await ann.post('/api/stream/stop/');
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  const recording = stop.body.recording;
  assert.ok(recording, 'stop answers with the recording');

  for (const ws of [annWs, bobWs]) {
    const ev = await ws.next((m) => m.type === 'recording_added');
    assert.deepEqual(ev.recording, recording);
  }
  await cidWs.assertNone((m) => m.type === 'recording_added');

  const audio = await fetch(`${server.baseUrl}/api/recordings/${recording.id}/audio`, { headers: { cookie: bob.cookie } });
  const bytes = Buffer.from(await audio.arrayBuffer());
  const pcm = readPcm(bytes);
  assert.equal(recording.duration_ms, Math.round((pcm.length / RATE) * 1000));
  assert.equal(recording.size_bytes, bytes.length);
  assert.equal(recording.status, 'complete');

  // The recording lasts as long as the live stream did (the media plane's clock, start to stop).
  assert.equal(summaries.length, 1);
  const liveMs = summaries[0]!.durationMs;
  t.diagnostic(`live stream ${liveMs} ms, recording ${recording.duration_ms} ms`);
  assert.ok(Math.abs(recording.duration_ms - liveMs) <= 20 + 10 * skippedHops, `recording ${recording.duration_ms} ms vs stream ${liveMs} ms (${skippedHops} hops skipped)`);

  // The streamed sound: first to last sample above the noise floor.
  const threshold = 0.02;
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) < threshold) first++;
  let last = pcm.length - 1;
  while (last > first && Math.abs(pcm[last]!) < threshold) last--;
  assert.ok(first < last, 'the recording holds the streamed chirp');
  const soundMs = ((last - first + 1) / RATE) * 1000;
  t.diagnostic(`streamed ${streamedMs} ms, recorded sound ${soundMs.toFixed(1)} ms, file ${recording.duration_ms} ms`);
  // Equal within 20 ms, give or take the 10 ms frames the jitter buffer reports adding or dropping
  // to follow the network (a loaded machine delays packets).
  t.diagnostic(`jitter buffer: ${expanded} frames expanded, ${accelerated} accelerated; ${skippedHops} hops skipped`);
  assert.ok(soundMs >= streamedMs - 20 - 10 * accelerated, `recorded ${soundMs.toFixed(1)} ms of sound for ${streamedMs} ms streamed`);
  assert.ok(soundMs <= streamedMs + 20 + 10 * expanded, `recorded ${soundMs.toFixed(1)} ms of sound for ${streamedMs} ms streamed`);

  // Samples: the input after the Opus round trip. Compared in 100 ms segments, each aligned
  // on its own, because the jitter buffer may drop or conceal a 10 ms frame to follow the network.
  let inFirst = 0;
  while (Math.abs(input[inFirst]!) < threshold) inFirst++;
  const seg = 4800;
  const scores: number[] = [];
  for (let k = 0; inFirst + (k + 1) * seg <= input.length; k++) {
    scores.push(bestCorrelation(input.subarray(inFirst + k * seg, inFirst + (k + 1) * seg), pcm, first + k * seg, 960).r);
  }
  const raw = [...scores];
  scores.sort((a, b) => a - b);
  const median = scores[Math.floor(scores.length / 2)]!;
  t.diagnostic(`segment correlation with the input: median ${median.toFixed(4)}, worst ${scores[0]!.toFixed(4)}`);
  assert.ok(median > 0.9, `median segment correlation ${median.toFixed(3)}; per segment ${raw.map((r) => r.toFixed(2)).join(' ')}; onset at ${first} samples`);

  await Promise.all([annWs.close(), bobWs.close(), cidWs.close()]);
});
