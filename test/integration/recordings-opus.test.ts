// Issue 19 through a real server (default RECORD_FORMAT=opus, engine `none`):
// werift broadcaster → server → recorder and a werift listener. The recording
// holds the very packets the listener received, lasts as long as the live
// stream, is served with Range, downloads as an exact WAV decoded on the fly,
// has its waveform from the side file, and is deleted with it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RtpPacket } from 'werift';
import type { SessionSummary } from '../../src/media/media-plane.js';
import { OGG_EOS, checkOggPage, parseOggPageHeader } from '../../src/media/recording/ogg.js';
import { parseOpusHead } from '../../src/media/recording/opus-head.js';
import { OggOpusRecorder, peaksPathFor } from '../../src/media/recording/ogg-opus-recorder.js';
import { OpusEncoder } from '../../src/media/session/opus-encoder.js';
import { createRecording } from '../../src/store/recordings.js';
import { parseWavHeader } from '../../src/media/recording/wav.js';
import type { WorkerStats } from '../../src/media/workers/worker-protocol.js';
import { startServer, type TestServer } from '../e2e/support/server.js';
import { Client } from '../support/test-app.js';
import { TestBroadcaster, TestListener } from './media-peers.js';

const RATE = 48_000;
let server: TestServer;
const peers: Array<{ close(): Promise<void> }> = [];
const summaries: SessionSummary[] = [];

before(async () => {
  server = await startServer({ env: { DENOISE_ENGINE: 'none' } });
  const media = server.app!.services.media!;
  const stopSession = media.stopSession.bind(media);
  media.stopSession = async (id, reason) => {
    const summary = await stopSession(id, reason);
    if (summary) summaries.push(summary);
    return summary;
  };
});
after(async () => {
  for (const p of peers) await p.close().catch(() => {});
  await server?.close();
});

/** A 200 → 2000 Hz chirp with 5 ms fades. */
function chirp(seconds: number): Float32Array {
  const n = RATE * seconds;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / RATE;
    const env = Math.min(1, i / 240, (n - 1 - i) / 240);
    out[i] = 0.3 * env * Math.sin(2 * Math.PI * (200 * t + (1800 / (2 * seconds)) * t * t));
  }
  return out;
}

/** Audio packets of an Ogg Opus file (one packet per lacing run; header packets skipped), checking every page. */
function oggPackets(bytes: Buffer): { packets: Buffer[]; preSkip: number; lastGranule: number; lastFlags: number } {
  const packets: Buffer[] = [];
  let preSkip = -1;
  let lastGranule = 0;
  let lastFlags = 0;
  let partial: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const h = parseOggPageHeader(bytes, at);
    assert.ok(h !== null && h !== 'corrupt' && checkOggPage(bytes, at, h.pageLength), `a whole page at ${at}`);
    let p = at + h.headerLength;
    for (let s = 0; s < h.segments; s++) {
      const lace = bytes[at + 27 + s]!;
      partial.push(bytes.subarray(p, p + lace));
      p += lace;
      if (lace < 255) {
        const packet = Buffer.concat(partial);
        partial = [];
        if (preSkip < 0) preSkip = parseOpusHead(packet).preSkip;
        else if (!packet.subarray(0, 8).equals(Buffer.from('OpusTags'))) packets.push(packet);
      }
    }
    if (h.granule >= 0) lastGranule = h.granule;
    lastFlags = h.flags;
    at += h.pageLength;
  }
  return { packets, preSkip, lastGranule, lastFlags };
}

function correlationAt(a: Float32Array, b: Float32Array, lag: number, from: number, to: number, step: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = from; i < to; i += step) {
    const j = i + lag;
    if (j < 0 || j >= b.length) continue;
    ab += a[i]! * b[j]!;
    aa += a[i]! * a[i]!;
    bb += b[j]! * b[j]!;
  }
  return ab / Math.sqrt(aa * bb || 1);
}

function segmentCorrelation(input: Float32Array, pcm: Float32Array): number {
  const threshold = 0.02;
  let inFirst = 0;
  while (Math.abs(input[inFirst]!) < threshold) inFirst++;
  let first = 0;
  while (first < pcm.length && Math.abs(pcm[first]!) < threshold) first++;
  const seg = 4800;
  const scores: number[] = [];
  for (let k = 0; inFirst + (k + 1) * seg <= input.length; k++) {
    const a = input.subarray(inFirst + k * seg, inFirst + (k + 1) * seg);
    let best = -1;
    for (let lag = -960; lag <= 960; lag++) {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) {
        const j = first + k * seg + lag + i;
        if (j < 0 || j >= pcm.length) continue;
        ab += a[i]! * pcm[j]!;
        aa += a[i]! * a[i]!;
        bb += pcm[j]! * pcm[j]!;
      }
      best = Math.max(best, ab / Math.sqrt(aa * bb || 1));
    }
    scores.push(best);
  }
  scores.sort((a, b) => a - b);
  return scores[Math.floor(scores.length / 2)]!;
}

test('an Opus recording holds exactly the packets the listener received, lasts as long as the live stream, plays with Range, downloads as an exact WAV, draws its waveform from the side file and is deleted with it', async (t) => {
  const ann = new Client(server.baseUrl);
  const bob = new Client(server.baseUrl);
  await ann.signup('ann');
  await bob.signup('bob');
  const req = await ann.post('/api/friends/requests', { username: 'bob' });
  assert.equal((await bob.post(`/api/friends/requests/${req.body.request.id}/accept`)).status, 200);

  const start = await ann.post('/api/stream/start/');
  assert.equal(start.status, 201, JSON.stringify(start.body));
  const broadcaster = new TestBroadcaster();
  peers.push(broadcaster);
  const offer = await ann.post('/api/webrtc/offer/', { session_id: start.body.stream.session_id, sdp: await broadcaster.offer() });
  assert.equal(offer.status, 200, JSON.stringify(offer.body));
  await broadcaster.accept(offer.body.sdp);
  const listener = new TestListener(10);
  peers.push(listener);
  const heard: Buffer[] = [];
  listener.pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp: RtpPacket) => heard.push(Buffer.from(rtp.payload))));
  const listen = await bob.post('/api/webrtc/listen/', { username: 'ann', sdp: await listener.offer() });
  assert.equal(listen.status, 200, JSON.stringify(listen.body));
  await listener.accept(listen.body.sdp);

  const input = chirp(3);
  await broadcaster.play(input);
  await new Promise((r) => setTimeout(r, 400)); // the jitter buffer drains
  const stats = await (server.app!.services.media as unknown as { workerStats(): Promise<WorkerStats[]> }).workerStats();
  const skippedHops = stats.reduce((n, w) => n + w.clock.skippedHops, 0);
  const stop = await ann.post('/api/stream/stop/');
  assert.equal(stop.status, 200, JSON.stringify(stop.body));
  const recording = stop.body.recording;
  assert.ok(recording, 'stop answers with the recording');

  const audio = await fetch(`${server.baseUrl}/api/recordings/${recording.id}/audio`, { headers: { cookie: bob.cookie } });
  assert.equal(audio.status, 200);
  assert.equal(audio.headers.get('content-type'), 'audio/ogg');
  assert.equal(audio.headers.get('accept-ranges'), 'bytes');
  const bytes = Buffer.from(await audio.arrayBuffer());
  assert.equal(recording.size_bytes, bytes.length);
  const ogg = oggPackets(bytes);
  assert.equal(ogg.lastFlags & OGG_EOS, OGG_EOS, 'the stream is closed');
  const samples = ogg.lastGranule - ogg.preSkip;
  assert.equal(recording.duration_ms, Math.round((samples / RATE) * 1000), 'listed duration = last granule − pre-skip');
  assert.equal(samples % 480, 0, 'whole 10 ms hops, exactly');
  const liveMs = summaries.at(-1)!.durationMs;
  t.diagnostic(`live stream ${liveMs} ms, recording ${recording.duration_ms} ms, ${ogg.packets.length} packets, ${bytes.length} bytes, listener heard ${heard.length}`);
  assert.ok(Math.abs(recording.duration_ms - liveMs) <= 20 + 10 * skippedHops, `recording ${recording.duration_ms} ms vs stream ${liveMs} ms`);

  // What the listener received is in the file byte for byte, as one unbroken run of packets.
  assert.ok(heard.length >= 100, `the listener heard ${heard.length} packets`);
  const k = ogg.packets.findIndex((p) => p.equals(heard[0]!));
  assert.ok(k >= 0, "the listener's first packet is in the recording");
  for (let i = 0; i < heard.length; i++) assert.ok(ogg.packets[k + i]?.equals(heard[i]!), `listener packet ${i} = recording packet ${k + i}`);

  // Range: the bytes asked for.
  const part = await fetch(`${server.baseUrl}/api/recordings/${recording.id}/audio`, { headers: { cookie: bob.cookie, range: 'bytes=1000-1999' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000, 2000));

  // WAV download, decoded on the fly: a valid WAV of exactly the recording's samples, holding the input.
  const wavRes = await fetch(`${server.baseUrl}/api/recordings/${recording.id}/audio?download=1&format=wav`, { headers: { cookie: bob.cookie } });
  assert.equal(wavRes.status, 200);
  assert.equal(wavRes.headers.get('content-type'), 'audio/wav');
  assert.match(wavRes.headers.get('content-disposition') ?? '', /filename="ann_\d{8}T\d{6}_\d{3}Z\.wav"/);
  const wav = Buffer.from(await wavRes.arrayBuffer());
  assert.equal(Number(wavRes.headers.get('content-length')), wav.length);
  const h = parseWavHeader(wav);
  assert.deepEqual({ rate: h.sampleRate, channels: h.channels, bits: h.bitsPerSample }, { rate: RATE, channels: 1, bits: 16 });
  assert.equal(h.dataSize, samples * 2, 'the WAV lasts exactly as long as the Opus recording');
  assert.equal(wav.length, 44 + h.dataSize);
  const pcm = new Float32Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = wav.readInt16LE(44 + 2 * i) / 32768;
  // The same audio the listener decoded from its packets (placed by RTP timestamp from its first
  // packet): find where it starts in the download, then compare all of it after 100 ms.
  const received = listener.received();
  let loud = 0;
  while (loud < received.length && Math.abs(received[loud]!) < 0.05) loud++;
  const probe = Math.min(loud + RATE / 5, received.length - RATE / 2);
  let lag = 0;
  let bestR = -2;
  for (let l = -probe; l <= pcm.length - probe - RATE / 2; l += 2) {
    const r = correlationAt(received, pcm, l, probe, probe + RATE / 2, 4);
    if (r > bestR) [bestR, lag] = [r, l];
  }
  for (let l = lag - 2; l <= lag + 2; l++) {
    const r = correlationAt(received, pcm, l, probe, probe + RATE / 2, 1);
    if (r > bestR) [bestR, lag] = [r, l];
  }
  const same = correlationAt(received, pcm, lag, 4800, Math.min(received.length, pcm.length - lag), 1);
  t.diagnostic(`WAV download vs the listener's audio: correlation ${same.toFixed(5)} over ${(received.length / RATE).toFixed(2)} s; vs the input: median 100 ms segment correlation ${segmentCorrelation(input, pcm).toFixed(4)}`);
  assert.ok(same > 0.99, `the WAV download is what the listener heard (correlation ${same.toFixed(4)})`);

  // Waveform from the side file (no decode): the decoded audio's peaks, bucket by bucket, give
  // or take the codec's error.
  const buckets = 100;
  const peaks = await bob.get(`/api/recordings/${recording.id}/peaks?buckets=${buckets}`);
  assert.equal(peaks.status, 200);
  assert.equal(peaks.body.duration_ms, recording.duration_ms);
  assert.equal(peaks.body.peaks.length, buckets);
  const diffs: number[] = [];
  for (let b = 0; b < buckets; b++) {
    let max = 0;
    for (let i = Math.floor((b * samples) / buckets); i < Math.floor(((b + 1) * samples) / buckets); i++) max = Math.max(max, Math.abs(pcm[i]!));
    diffs.push(Math.abs(peaks.body.peaks[b] - max));
  }
  diffs.sort((a, b) => a - b);
  t.diagnostic(`peaks vs decoded audio: median |diff| ${diffs[50]!.toFixed(3)}, 90th ${diffs[90]!.toFixed(3)}`);
  assert.ok(diffs[50]! < 0.03 && diffs[90]! < 0.1, `peaks differ from the audio by ${diffs[50]} (median), ${diffs[90]} (90th)`);
  assert.ok(Math.max(...peaks.body.peaks) > 0.25, 'the chirp is in the waveform');

  // Deleting removes the audio and its peaks file.
  const row = await server.app!.services.db.selectFrom('stream_recordings').selectAll().where('id', '=', recording.id).executeTakeFirstOrThrow();
  const onDisk = path.join(server.dataDir, 'recordings', row.file_name);
  assert.ok(existsSync(onDisk) && existsSync(peaksPathFor(onDisk)));
  assert.equal((await ann.request('DELETE', `/api/recordings/${recording.id}`)).status, 200);
  assert.equal(existsSync(onDisk), false);
  assert.equal(existsSync(peaksPathFor(onDisk)), false);
});

test('a 1-hour Opus recording downloads as a WAV of exactly one hour, decoded as it streams with flat memory', async (t) => {
  const dan = new Client(server.baseUrl);
  await dan.signup('dan');
  // One hour of real packets: one second of a tone encoded once, written 3,600 times (the
  // recorder takes packets as the live encoder hands them over).
  const encoder = new OpusEncoder();
  const fileName = 'dan_20261207T060000_000Z.opus';
  const file = path.join(server.dataDir, 'recordings', fileName);
  const rec = OggOpusRecorder.open(file, { sharedEncoder: encoder, peaks: false });
  const second: Buffer[] = [];
  const pcm = new Float32Array(960);
  for (let p = 0; p < 50; p++) {
    for (let i = 0; i < 960; i++) pcm[i] = 0.3 * Math.sin(((p * 960 + i) * 2 * Math.PI * 440) / RATE);
    second.push(encoder.encode(pcm, 960));
  }
  for (let s = 0; s < 3600; s++) for (const p of second) rec.writePacket(p, 960);
  const result = rec.close();
  encoder.close();
  assert.equal(result.durationMs, 3_600_000);
  const db = server.app!.services.db;
  const owner = (await db.selectFrom('users').select('id').where('username', '=', 'dan').executeTakeFirstOrThrow()).id;
  const id = await createRecording(db, {
    ownerId: owner,
    fileName,
    rawFileName: null,
    startedAt: '2026-12-07T06:00:00.000Z',
    sampleRate: RATE,
    engine: 'none',
    status: 'complete',
    endedAt: '2026-12-07T07:00:00.000Z',
    durationMs: result.durationMs,
    sizeBytes: result.sizeBytes,
  });

  const res = await fetch(`${server.baseUrl}/api/recordings/${id}/audio?download=1&format=wav`, { headers: { cookie: dan.cookie } });
  assert.equal(res.status, 200);
  const expected = 44 + 2 * 3600 * RATE;
  assert.equal(Number(res.headers.get('content-length')), expected);
  const reader = res.body!.getReader();
  const head: number[] = [];
  let received = 0;
  let loud = 0;
  const base = process.memoryUsage().rss;
  let peak = base;
  let peakFirstQuarter = base;
  let chunks = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let i = 0; head.length < 44 && i < value.length; i++) head.push(value[i]!);
    // Samples at the start of a chunk (aligned to whole samples): the tone is there throughout.
    if ((received & 1) === 0 && received >= 44 && value.length >= 2) {
      const v = Math.abs((value[0]! | (value[1]! << 8)) << 16 >> 16);
      if (v > 1000) loud++;
    }
    received += value.length;
    if (++chunks % 64 === 0) {
      peak = Math.max(peak, process.memoryUsage().rss);
      if (received < expected / 4) peakFirstQuarter = peak;
    }
  }
  const grownMb = (peak - base) / 1048576;
  const laterMb = (peak - peakFirstQuarter) / 1048576;
  t.diagnostic(`${(received / 1048576).toFixed(0)} MB of WAV in ${chunks} chunks; RSS grew by at most ${grownMb.toFixed(1)} MB while streaming, ${laterMb.toFixed(1)} MB of it after the first quarter`);
  assert.equal(received, expected, 'every byte announced arrived');
  const h = parseWavHeader(Buffer.from(head));
  assert.deepEqual({ dataSize: h.dataSize, rate: h.sampleRate, channels: h.channels }, { dataSize: 2 * 3600 * RATE, rate: RATE, channels: 1 });
  assert.ok(loud > chunks / 4, `the tone comes through (${loud} of ${chunks} chunk starts loud)`);
  // Buffering the decoded hour anywhere would take ≥ 330 MB and grow ≥ 250 MB after the first
  // quarter; what is left is garbage the collector has not yet returned (RSS, not live memory).
  assert.ok(grownMb < 160, `RSS grew by ${grownMb.toFixed(1)} MB for a ${(expected / 1048576).toFixed(0)} MB download`);
  assert.ok(laterMb < 96, `RSS grew by ${laterMb.toFixed(1)} MB after the first quarter of the download`);
});
