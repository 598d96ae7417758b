// Issue 4: "10 minutes of audio pushed through a session faster than real time
// keeps server memory flat (RSS growth < 20 MB); a long stream never holds its
// audio in memory". A real StreamSession (jitter buffer, Opus decode, engine
// `none`, recorder, Opus encode) driven hop by hop on a virtual clock, the way
// the media worker drives it, with Opus packets fed where werift delivers them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { NoneDenoiser } from '../../src/denoise/none.js';
import type { JitterBuffer } from '../../src/media/session/jitter-buffer.js';
import { OpusEncoder } from '../../src/media/session/opus-encoder.js';
import { StreamSession } from '../../src/media/session/stream-session.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-session-mem-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('ten minutes of audio through a session faster than real time keep RSS growth under 20 MB and are all recorded', async (t) => {
  const file = path.join(tmp, 'ann_20260101T000000_000Z.wav');
  const failures: string[] = [];
  const session = new StreamSession(
    {
      sessionId: 'mem',
      ownerId: 1,
      ownerName: 'ann',
      engine: 'none',
      denoise: { attenLimDb: null },
      recording: { filePath: file, rawFilePath: null },
      maxListeners: 10,
    },
    new NoneDenoiser(),
    { noMediaTimeoutMs: 60_000, listenerConnectTimeoutMs: 10_000, iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [], srtpFastPath: true },
    { ended: () => {}, listenerCount: () => {}, listenerEnded: () => {}, recordingFailed: (m) => failures.push(m), warn: (m) => failures.push(m) },
  );
  // Where werift hands over the broadcaster's RTP (StreamSession.answerBroadcaster).
  const jitter = (session as unknown as { jitter: JitterBuffer }).jitter;
  const sender = new OpusEncoder();
  const pcm = new Float32Array(960);
  let phase = 0;
  const t0 = performance.now();
  let hop = 0;
  let seq = 0;
  const run = (seconds: number) => {
    for (const end = hop + seconds * 100; hop < end; hop++) {
      const now = t0 + hop * 10;
      if (hop % 2 === 0) {
        for (let i = 0; i < 960; i++) pcm[i] = 0.3 * Math.sin((phase += (2 * Math.PI * 440) / 48_000));
        jitter.processInput(seq & 0xffff, (seq * 960) >>> 0, sender.encode(pcm, 960), now);
        seq++;
      }
      session.pull(now);
      session.deliver(session.denoiser.process(session.input));
    }
  };
  run(20); // warm-up: buffers, codec state, first flushes
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  run(580);
  globalThis.gc?.();
  const grown = process.memoryUsage().rss - before;
  const summary = await session.close();
  sender.close();
  t.diagnostic(`RSS growth over 580 s of audio: ${(grown / 1048576).toFixed(1)} MB; ${((performance.now() - t0) / 1000).toFixed(1)} s wall for 600 s of audio`);
  assert.deepEqual(failures, []);
  assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
  assert.equal(summary.recording?.durationMs, 600_000);
  assert.equal(summary.recording?.complete, true);
  assert.equal(statSync(file).size, 44 + 600 * 96_000);
});
