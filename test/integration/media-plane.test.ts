// The media plane end to end without a browser: real werift peers over
// loopback, real worker threads, real Opus, real RNNoise.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import wavefile from 'wavefile';
import type { DenoiseEngineName } from '../../src/config.js';
import { MediaError } from '../../src/media/media-plane.js';
import type { SessionStats } from '../../src/media/session/stream-session.js';
import type { WorkerPoolMediaPlane } from '../../src/media/workers/worker-pool.js';
import { openMediaPlane, type MediaPlaneHarness } from './media-plane-harness.js';
import { loadSharedAudio, TestBroadcaster, TestListener, type Impairment } from './media-peers.js';
import { align, energy, median, prng, windowedCorrelations } from './media-signal.js';

/** Short, for the no-media test's own plane; the main plane never ends a session for silence while a test connects peers. */
const NO_MEDIA_MS = 1500;

let harness: MediaPlaneHarness;
let dir: string;
let plane: WorkerPoolMediaPlane;
let ended: MediaPlaneHarness['ended'];
let seq = 0;

function readWav(file: string): Float32Array {
  const wav = new wavefile.WaveFile(readFileSync(file));
  const s = wav.getSamples(false, Int16Array) as unknown as Int16Array;
  return Float32Array.from(s, (v) => v / 32768);
}

async function startSession(engine: DenoiseEngineName, extra: { maxListeners?: number; record?: boolean } = {}) {
  const sessionId = `s${++seq}`;
  const recording = extra.record
    ? { filePath: path.join(dir, `${sessionId}.wav`), rawFilePath: path.join(dir, `${sessionId}.raw.wav`) }
    : null;
  const started = await plane.startSession({
    sessionId,
    ownerId: seq,
    ownerName: `user${seq}`,
    engine,
    denoise: { attenLimDb: null },
    recording,
    maxListeners: extra.maxListeners ?? 10,
  });
  return { sessionId, recording, engine: started.engine };
}

async function connect(sessionId: string, listeners: number) {
  const b = new TestBroadcaster();
  await b.accept(await plane.answerBroadcaster(sessionId, await b.offer()));
  const ls: TestListener[] = [];
  for (let i = 0; i < listeners; i++) {
    const l = new TestListener();
    await l.accept(await plane.addListener(sessionId, `l${i}`, await l.offer()));
    ls.push(l);
  }
  return { b, ls };
}

async function closeAll(b: TestBroadcaster, ls: TestListener[]) {
  await b.close();
  for (const l of ls) await l.close();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sessionStats(of: WorkerPoolMediaPlane, sessionId: string): Promise<SessionStats> {
  const stats = (await of.workerStats()).flatMap((w) => w.perSession).find((s) => s.sessionId === sessionId);
  assert.ok(stats, `stats of session ${sessionId}`);
  return stats;
}

/** Median over 100 ms windows of the correlation between ref and x, each window aligned. */
function similarity(ref: Float32Array, x: Float32Array): { first: number; median: number; windows: number } {
  // x may start with seconds of silence (the session was live before the broadcaster played).
  const first = align(ref.subarray(0, 48_000), x, 0, x.length - 48_000).lag;
  const corr = windowedCorrelations(ref, x, 4800, first, 4800);
  if (process.env.HC_DEBUG) console.log(first, x.length, corr.map((c) => c.toFixed(2)).join(' '));
  return { first, median: median(corr), windows: corr.length };
}

describe('media plane (werift peers, worker threads)', () => {
  const input = loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000 * 4);

  before(async () => {
    harness = await openMediaPlane({ mediaWorkers: 2, noMediaTimeoutMs: 120_000 });
    ({ plane, dir, ended } = harness);
  });

  after(async () => {
    await harness?.close();
  });

  it('media workers run their hops real-time (SCHED_RR, MEDIA_RT_PRIORITY) when the process may, and say why not otherwise', async () => {
    const workers = await plane.workerStats();
    assert.equal(workers.length, 2);
    for (const w of workers) {
      assert.ok(w.scheduling.tid !== null, 'the worker knows its own thread id');
      if (process.getuid?.() === 0) assert.deepEqual(w.scheduling, { tid: w.scheduling.tid, policy: 'SCHED_RR', priority: 10, fallback: null });
      else assert.match(w.scheduling.fallback ?? '', /CAP_SYS_NICE/);
    }
    assert.notEqual(workers[0]!.scheduling.tid, workers[1]!.scheduling.tid);
  });

  it('with engine none, every listener hears the broadcaster input (after Opus both ways)', async () => {
    const { sessionId } = await startSession('none');
    const { b, ls } = await connect(sessionId, 2);
    assert.equal(plane.listenerCount(sessionId), 2);
    await b.play(input);
    await sleep(200);
    const ssrcs = new Set(ls.flatMap((l) => [...l.ssrcs]));
    assert.equal(ssrcs.size, 2, 'each listener has its own SSRC');
    for (const l of ls) {
      const sim = similarity(input, l.received());
      assert.ok(sim.windows > 20, `${sim.windows} windows compared`);
      assert.ok(sim.median > 0.9, `listener correlates with the input: ${sim.median.toFixed(3)}`);
    }
    // After werift delivered the first packet, the SRTP fast receive path took every other one.
    const { receive } = await sessionStats(plane, sessionId);
    assert.equal(receive.path, 'fast', receive.fallback ?? '');
    assert.equal(receive.rejected, 0);
    assert.ok(receive.packets >= input.length / 960 - 5, `${receive.packets} packets came the fast way`);
    // The worker that hosts it timed each hop's phases and how late each hop started.
    const host = (await plane.workerStats()).find((w) => w.perSession.some((p) => p.sessionId === sessionId))!;
    for (const phase of ['pull', 'denoise', 'deliver'] as const) {
      assert.ok(host.phases[phase].count >= 300, `${phase} timed on every hop (${host.phases[phase].count})`);
      assert.ok(host.phases[phase].p95 < host.clock.busyMaxMs + 0.05, `${phase} p95 within the longest hop`);
    }
    assert.ok(host.clock.startDelayP95Ms >= 0 && host.clock.startDelayMaxMs >= host.clock.startDelayP95Ms - 0.05);
    const summary = await plane.stopSession(sessionId, 'stopped');
    assert.equal(summary?.engine, 'none');
    assert.equal(await plane.stopSession(sessionId, 'stopped'), null, 'stopping twice is harmless');
    await closeAll(b, ls);
  });

  it('with rnnoise, listeners hear exactly the denoised output the server recorded, which has less noise', async () => {
    const { sessionId, recording, engine } = await startSession('rnnoise', { record: true });
    assert.equal(engine, 'rnnoise');
    // Speech + noise at 0 dB SNR, mixed here so the clean reference lines up sample for sample.
    const clean = loadSharedAudio('clean_freesound_33711.wav').subarray(48_000, 48_000 * 5);
    const noise = loadSharedAudio('noise_freesound_573577.wav').subarray(0, clean.length);
    const gain = Math.sqrt(energy(clean) / energy(noise));
    const mixed = Float32Array.from(clean, (c, i) => c + gain * noise[i]!);
    const { b, ls } = await connect(sessionId, 2);
    await b.play(mixed);
    await sleep(200);
    const summary = await plane.stopSession(sessionId, 'stopped');
    await closeAll(b, ls);
    assert.ok(summary?.recording?.complete, 'recording finalized');
    const denoised = readWav(recording!.filePath);
    const raw = readWav(recording!.rawFilePath!);
    // Raw recording = input after one Opus generation.
    assert.equal(raw.length, denoised.length, 'raw and denoised recordings are written in the same hops');
    // Listeners = the denoised recording after one more Opus generation. Recorder and encoder
    // see the same frames, so one lag lines the whole of what a listener got up with the recording.
    for (const l of ls) {
      const heard = l.received();
      if (process.env.HC_DEBUG) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(`/tmp/hc-debug-heard-${ls.indexOf(l)}.f32`, heard);
        writeFileSync('/tmp/hc-debug-denoised.f32', denoised);
        writeFileSync('/tmp/hc-debug-raw.f32', raw);
        console.log('packets', l.packets, 'samples', heard.length, 'rec', denoised.length);
      }
      const a = align(heard, denoised, 0, denoised.length - 1);
      assert.ok(a.corr > 0.9, `listener matches the server's denoised output: ${a.corr.toFixed(3)}`);
    }
    // Denoising did something: where the speech pauses, the input's noise is mostly gone.
    const meanWindow = (energy(clean) / clean.length) * 960;
    const pauseEnergy = (x: Float32Array) => {
      const first = align(clean, x, 0, x.length - clean.length).lag;
      let e = 0;
      for (let i = 0; i + 960 <= clean.length && i + first + 960 <= x.length; i += 960) {
        if (energy(clean, i, i + 960) < meanWindow * 0.01) e += energy(x, i + first, i + first + 960);
      }
      return e;
    };
    const reductionDb = 10 * Math.log10(pauseEnergy(raw) / pauseEnergy(denoised));
    assert.ok(reductionDb > 6, `noise in speech pauses reduced by ${reductionDb.toFixed(1)} dB`);
  });

  it('with 5 % loss, reordering and 0–40 ms jitter the output never stalls and still correlates', async () => {
    const { sessionId } = await startSession('none');
    const { b, ls } = await connect(sessionId, 2);
    const rnd = prng(42);
    const impair: Impairment = {
      drop: (i) => i > 5 && rnd() < 0.05,
      delayMs: (i) => (i % 7 === 3 ? 25 : rnd() * 40), // every 7th packet overtaken by the next ones
    };
    await b.play(input, impair);
    await sleep(300);
    const stats = await sessionStats(plane, sessionId);
    assert.ok(stats.jitter.lost + stats.jitter.recovered > 0, 'loss was seen and concealed');
    assert.equal(stats.receive.path, 'fast', 'reordered packets stay on the fast receive path');
    assert.equal(stats.receive.rejected, 0);
    for (const l of ls) {
      // The server kept sending 20 ms packets the whole time: listeners got a gap-free timeline.
      const expectedPackets = input.length / 960;
      assert.ok(l.packets >= expectedPackets * 0.95, `${l.packets} packets for ${expectedPackets} sent`);
      assert.ok(l.received().length >= input.length * 0.95, `audio timeline complete: ${l.received().length} samples for ${input.length}`);
      const sim = similarity(input, l.received());
      assert.ok(sim.median > 0.8, `still correlates: ${sim.median.toFixed(3)}`);
    }
    await plane.stopSession(sessionId, 'stopped');
    await closeAll(b, ls);
  });

  it('10 ms broadcaster packets (ptime 10) reach a small audience as 10 ms packets, same audio', async () => {
    const { sessionId } = await startSession('none');
    const { b, ls } = await connect(sessionId, 1);
    await b.play(input.subarray(0, 48_000 * 3), {}, false, 10);
    await sleep(200);
    const l = ls[0]!;
    const sim = similarity(input.subarray(0, 48_000 * 3), l.received());
    assert.ok(sim.median > 0.9, `listener correlates with the input: ${sim.median.toFixed(3)}`);
    // 10 ms packets: about twice as many as the 20 ms case would give for the same audio.
    const perSecond = l.packets / (l.received().length / 48_000);
    assert.ok(perSecond > 80, `${perSecond.toFixed(0)} packets per second of audio`);
    await plane.stopSession(sessionId, 'stopped');
    await closeAll(b, ls);
  });

  it('refuses the listener over the limit with listener-limit, and frees places when listeners leave', async () => {
    const { sessionId } = await startSession('none', { maxListeners: 2 });
    const { b, ls } = await connect(sessionId, 2);
    const extra = new TestListener();
    await assert.rejects(plane.addListener(sessionId, 'l-extra', await extra.offer()), (e: unknown) => e instanceof MediaError && e.code === 'listener-limit');
    assert.equal(plane.listenerCount(sessionId), 2);
    await plane.removeListener(sessionId, 'l0');
    await sleep(50);
    assert.equal(plane.listenerCount(sessionId), 1);
    // Live strength changes go to the session's denoiser; unknown sessions are refused.
    await plane.setDenoiseParams(sessionId, { attenLimDb: 12 });
    await assert.rejects(plane.setDenoiseParams('nope', { attenLimDb: null }), (e: unknown) => e instanceof MediaError && e.code === 'no-such-session');
    const again = new TestListener();
    await again.accept(await plane.addListener(sessionId, 'l-extra', await again.offer()));
    assert.equal(plane.listenerCount(sessionId), 2);
    await plane.stopSession(sessionId, 'stopped');
    await closeAll(b, [...ls, extra, again]);
  });

  it('rejects malformed SDP with bad-sdp and unknown sessions with no-such-session', async () => {
    const { sessionId } = await startSession('none');
    for (const sdp of ['', 'hello', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n']) {
      await assert.rejects(plane.answerBroadcaster(sessionId, sdp), (e: unknown) => e instanceof MediaError && e.code === 'bad-sdp');
    }
    const listener = new TestListener();
    // A listener's recvonly offer is not a broadcaster offer.
    await assert.rejects(plane.answerBroadcaster(sessionId, await listener.offer()), (e: unknown) => e instanceof MediaError && e.code === 'bad-sdp');
    await assert.rejects(plane.addListener('nope', 'l', await listener.offer()), (e: unknown) => e instanceof MediaError && e.code === 'no-such-session');
    assert.equal(await plane.stopSession('nope', 'stopped'), null);
    await listener.close();
    await plane.stopSession(sessionId, 'stopped');
  });

  it('a crashed worker reports its sessions ended (worker-crashed) and is replaced', async () => {
    const { sessionId } = await startSession('none');
    await plane.crashWorkerOf(sessionId);
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && plane.hasSession(sessionId)) await sleep(20);
    assert.equal(ended.find((e) => e.summary.sessionId === sessionId)?.reason, 'worker-crashed');
    // The pool restarts the worker; new sessions keep working.
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      const stats = await plane.workerStats();
      ok = stats.length === 2;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'both workers running again');
    const again = await startSession('none');
    const { b, ls } = await connect(again.sessionId, 1);
    await b.play(input.subarray(0, 48_000));
    await sleep(200);
    assert.ok(ls[0]!.packets > 40);
    await plane.stopSession(again.sessionId, 'stopped');
    await closeAll(b, ls);
  });

  it('close() ends the sessions still live with reason shutdown and finalizes their recordings', async () => {
    const { sessionId } = await startSession('rnnoise', { record: true });
    await plane.close();
    const mine = ended.find((e) => e.summary.sessionId === sessionId);
    assert.equal(mine?.reason, 'shutdown');
    assert.ok(mine.summary.recording);
    assert.equal(plane.hasSession(sessionId), false);
    await assert.rejects(startSession('none'), (e: unknown) => e instanceof MediaError && e.code === 'worker-unavailable');
  });
});

describe('media plane with SRTP_FAST_PATH=0 (werift sends and receives every packet)', () => {
  const input = loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000 * 2);
  let own: MediaPlaneHarness;

  before(async () => {
    own = await openMediaPlane({ mediaWorkers: 1, srtpFastPath: false });
  });

  after(async () => {
    await own?.close();
  });

  it('the listener hears the broadcaster, and the stats say werift received it', async () => {
    const sessionId = 'werift-only';
    await own.plane.startSession({ sessionId, ownerId: 1, ownerName: 'u', engine: 'none', denoise: { attenLimDb: null }, recording: null, maxListeners: 2 });
    const b = new TestBroadcaster();
    await b.accept(await own.plane.answerBroadcaster(sessionId, await b.offer()));
    const l = new TestListener();
    await l.accept(await own.plane.addListener(sessionId, 'l0', await l.offer()));
    await b.play(input);
    await sleep(200);
    const sim = similarity(input, l.received());
    assert.ok(sim.median > 0.9, `listener correlates with the input: ${sim.median.toFixed(3)}`);
    const { receive } = await sessionStats(own.plane, sessionId);
    assert.deepEqual(receive, { path: 'werift', fallback: null, packets: 0, rejected: 0 });
    await own.plane.stopSession(sessionId, 'stopped');
    await closeAll(b, [l]);
  });
});

describe('media plane no-media watchdog', () => {
  const input = loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000);
  let own: MediaPlaneHarness;
  before(async () => {
    own = await openMediaPlane({ mediaWorkers: 1, noMediaTimeoutMs: NO_MEDIA_MS });
  });
  after(async () => {
    await own?.close();
  });

  it('a session whose broadcaster stops sending ends itself with no-media (and one that never gets an offer too)', async () => {
    const start = (sessionId: string) =>
      own.plane.startSession({ sessionId, ownerId: 1, ownerName: 'nm', engine: 'none', denoise: { attenLimDb: null }, recording: null, maxListeners: 1 });
    await start('quiet');
    await start('never');
    // Silence counts from the connection coming up, so the handshake's time is not part of it.
    const b = new TestBroadcaster();
    await b.accept(await own.plane.answerBroadcaster('quiet', await b.offer()));
    await b.play(input);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (own.plane.hasSession('quiet') || own.plane.hasSession('never'))) await sleep(100);
    const quiet = own.ended.find((e) => e.summary.sessionId === 'quiet');
    assert.equal(quiet?.reason, 'no-media');
    assert.ok(quiet.summary.durationMs >= 1000 + NO_MEDIA_MS * 0.9, `ended ${quiet.summary.durationMs} ms after its start`);
    assert.equal(own.ended.find((e) => e.summary.sessionId === 'never')?.reason, 'no-media');
    await b.close();
  });
});
