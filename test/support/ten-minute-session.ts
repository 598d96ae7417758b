// Ten minutes of a 440 Hz tone through a real StreamSession (jitter buffer,
// Opus decode, engine `none`, recorder, Opus encode) driven hop by hop on a
// virtual clock the way the media worker drives it, with Opus packets fed where
// werift delivers them; reports RSS growth after a 20 s warm-up. Shared by the
// WAV and Ogg Opus recorder memory tests. Not a test file itself.
import { performance } from 'node:perf_hooks';
import { NoneDenoiser } from '../../src/denoise/none.js';
import type { SessionSummary } from '../../src/media/media-plane.js';
import type { JitterBuffer } from '../../src/media/session/jitter-buffer.js';
import { OpusEncoder } from '../../src/media/session/opus-encoder.js';
import { StreamSession } from '../../src/media/session/stream-session.js';

export interface TenMinuteResult {
  summary: SessionSummary;
  /** Recorder failures and warnings the session reported (none expected). */
  failures: string[];
  rssGrowthBytes: number;
  wallMs: number;
}

export async function runTenMinuteSession(recording: { filePath: string; rawFilePath: string | null }): Promise<TenMinuteResult> {
  const failures: string[] = [];
  const session = new StreamSession(
    { sessionId: 'mem', ownerId: 1, ownerName: 'ann', engine: 'none', denoise: { attenLimDb: null }, recording, maxListeners: 10 },
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
  const rssGrowthBytes = process.memoryUsage().rss - before;
  const summary = await session.close();
  sender.close();
  return { summary, failures, rssGrowthBytes, wallMs: performance.now() - t0 };
}
