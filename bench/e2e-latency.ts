// End-to-end latency: broadcaster capture → server (decode, denoise, encode,
// fan-out) → listener playout, in headless Chromium, per denoise engine.
//
// Both pages live in one browser, so `performance.timeOrigin + performance.now()`
// is one clock for both. The broadcaster's "microphone" is a WebAudio graph
// (getUserMedia is replaced in that page) that plays one spoken syllable (cut
// from the shared clean-speech test file, so denoisers keep it) every
// PERIOD_MS into silence; the same onset detector (a ScriptProcessor of 256 samples) runs on
// the broadcaster's captured stream and on the listener's received stream, so
// detector delay cancels out. Latency = listener onset − broadcaster onset.
//
//   npm run bench:e2e-latency            (runs inside the test network namespace)
//   BENCH_SECONDS=30 BENCH_ENGINES=none,rnnoise npm run bench:e2e-latency   (BENCH_DUMP=1: raw levels to /tmp)
// Writes bench/results/e2e-latency.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/config.js';
import { launchChromium, sharedAudio } from '../test/e2e/support/browser.js';
import { startServer, type TestServer } from '../test/e2e/support/server.js';
import { makeFriends, newUser, openFriendPage } from '../test/e2e/support/users.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
// Longer than any latency we expect, so a late burst is never matched to the next one.
const PERIOD_MS = 800;
const ENGINES = (process.env.BENCH_ENGINES ?? 'none,rnnoise,dfn3').split(',') as Array<'none' | 'rnnoise' | 'dfn3'>;

/** Runs in both pages: records the level of a MediaStream per 256-sample block, with the block's time on the shared clock. */
const DETECTOR = `
window.__detect = (stream) => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const src = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(256, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  window.__levels = [];
  proc.onaudioprocess = (e) => {
    // Audio-clock time of the block mapped to the shared clock: callbacks themselves run
    // late and in bunches, the audio clock does not.
    const ts = ctx.getOutputTimestamp();
    const t = performance.timeOrigin + ts.performanceTime + (e.playbackTime - ts.contextTime) * 1000;
    const x = e.inputBuffer.getChannelData(0);
    let m = 0;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
    window.__levels.push(t, m);
  };
  src.connect(proc);
  proc.connect(mute);
  mute.connect(ctx.destination);
  window.__detectCtx = ctx;
};`;

/**
 * Onsets from block levels [t0, level0, t1, level1, …]: a block above 20 % of this side's
 * loudest block, at least REFRACTORY_MS after the previous onset. Relative thresholds make
 * the two sides comparable although codec and denoiser change the level.
 */
const REFRACTORY_MS = 300;
function onsetsOf(levels: number[]): number[] {
  let peak = 0;
  for (let i = 1; i < levels.length; i += 2) peak = Math.max(peak, levels[i]!);
  const out: number[] = [];
  for (let i = 0; i < levels.length; i += 2) {
    if (levels[i + 1]! > 0.2 * peak && (out.length === 0 || levels[i]! - out[out.length - 1]! > REFRACTORY_MS)) out.push(levels[i]!);
  }
  return out;
}

/** Broadcaster page: getUserMedia returns a WebAudio stream playing `snippet` every PERIOD_MS. */
function fakeMic(snippet: Float32Array): string {
  return `
${DETECTOR}
navigator.mediaDevices.getUserMedia = async () => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const bytes = Uint8Array.from(atob('${Buffer.from(snippet.buffer, snippet.byteOffset, snippet.byteLength).toString('base64')}'), (c) => c.charCodeAt(0));
  const samples = new Float32Array(bytes.buffer);
  const buffer = ctx.createBuffer(1, samples.length, 48000);
  buffer.copyToChannel(samples, 0);
  const dest = ctx.createMediaStreamDestination();
  const t0 = ctx.currentTime + 0.5;
  for (let i = 0; i < ${Math.ceil((SECONDS + 30) * (1000 / PERIOD_MS))}; i++) {
    const node = ctx.createBufferSource();
    node.buffer = buffer;
    node.connect(dest);
    node.start(t0 + i * ${PERIOD_MS / 1000});
  }
  window.__micCtx = ctx;
  window.__detect(dest.stream);
  return dest.stream;
};`;
}

/**
 * A syllable from the shared clean speech: 150 ms from just before its sharpest onset,
 * peak-normalized to 0.5 with short fades (so the silence between bursts is exact).
 */
function syllable(): Float32Array {
  const wav = readFileSync(sharedAudio('clean_freesound_33711.wav'));
  const dataAt = wav.indexOf('data') + 8;
  const n = Math.floor((wav.length - dataAt) / 2);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = wav.readInt16LE(dataAt + i * 2) / 32768;
  const hop = 480;
  const level = Array.from({ length: Math.floor(n / hop) }, (_, f) => {
    let s = 0;
    for (let i = f * hop; i < (f + 1) * hop; i++) s += x[i]! * x[i]!;
    return Math.sqrt(s / hop);
  });
  const max = Math.max(...level);
  // The sharpest rise into a loud frame: loud now, quiet 20–60 ms before.
  let f = -1;
  let bestRise = 0;
  for (let i = 6; i < level.length; i++) {
    if (level[i]! < 0.3 * max) continue;
    const rise = level[i]! / (Math.max(...level.slice(i - 6, i - 1)) + 1e-4);
    if (rise > bestRise) [f, bestRise] = [i, rise];
  }
  if (f < 0) throw new Error('no syllable onset found in the clean speech file');
  const start = (f - 2) * hop;
  const out = x.slice(start, start + Math.round(0.15 * 48_000));
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  const fadeIn = 144;
  const fadeOut = 480;
  for (let i = 0; i < out.length; i++) {
    const g = Math.min(1, i / fadeIn, (out.length - 1 - i) / fadeOut);
    out[i] = (out[i]! / peak) * 0.5 * g;
  }
  return out;
}

interface EngineResult {
  engine_in_use: string;
  median_ms: number;
  p95_ms: number;
  min_ms: number;
  max_ms: number;
  bursts_sent: number;
  bursts_matched: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function levels(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __levels?: number[] }).__levels ?? []);
}

async function measure(engine: string): Promise<EngineResult | { skipped: string }> {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({ env: { DENOISE_ENGINE: engine } });
    // The microphone needs a secure context; the bench server is plain HTTP on the namespace address.
    browser = await launchChromium({
      extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${server.baseUrl}`, '--autoplay-policy=no-user-gesture-required'],
    });
    const health = (await (await fetch(`${server.baseUrl}/api/health`)).json()) as { denoise: { engine: string; fallback_reason: string | null } };
    if (health.denoise.engine !== engine) return { skipped: `engine ${engine} unavailable: ${health.denoise.fallback_reason ?? 'fell back'}` };

    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    await makeFriends(server, ann, bob);
    await ann.page.addInitScript(fakeMic(SNIPPET));
    await ann.page.reload();
    await ann.page.getByTestId('stream-start').click();
    await ann.page.locator('[data-testid="stream-state"]', { hasText: 'Live' }).waitFor({ timeout: 15_000 });

    await openFriendPage(bob.page, ann.username);
    await bob.page.addScriptTag({ content: DETECTOR });
    await bob.page.getByTestId('listen-start').click();
    await bob.page.locator('[data-testid="connection-state"]', { hasText: 'connected' }).waitFor({ timeout: 15_000 });
    await bob.page.waitForFunction(() => (document.querySelector('[data-testid="stream-player"]') as HTMLAudioElement | null)?.srcObject);
    await bob.page.evaluate(() => {
      const w = window as unknown as { __detect: (s: MediaStream) => void };
      w.__detect((document.querySelector('[data-testid="stream-player"]') as HTMLAudioElement).srcObject as MediaStream);
    });
    // Let the jitter buffers settle before counting.
    await new Promise((r) => setTimeout(r, 2000));
    const from = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    if (process.env.BENCH_DUMP) {
      writeFileSync(`/tmp/e2e-levels-${engine}.json`, JSON.stringify({ sent: await levels(ann.page), heard: await levels(bob.page) }));
    }
    const sent = onsetsOf(await levels(ann.page)).filter((t) => t >= from);
    const heard = onsetsOf(await levels(bob.page)).filter((t) => t >= from + PERIOD_MS);
    await ann.page.getByTestId('stream-stop').click();

    const latencies: number[] = [];
    for (const h of heard) {
      // The burst a listener onset belongs to is the latest one sent before it (latency < period).
      let match = -Infinity;
      for (const s of sent) if (s <= h && s > match) match = s;
      if (h - match < PERIOD_MS) latencies.push(h - match);
    }
    latencies.sort((a, b) => a - b);
    const round = (x: number) => Math.round(x * 10) / 10;
    await ann.context.close();
    await bob.context.close();
    return {
      engine_in_use: health.denoise.engine,
      median_ms: round(percentile(latencies, 50)),
      p95_ms: round(percentile(latencies, 95)),
      min_ms: round(latencies[0] ?? NaN),
      max_ms: round(latencies[latencies.length - 1] ?? NaN),
      bursts_sent: sent.length,
      bursts_matched: latencies.length,
    };
  } finally {
    await browser?.close();
    await server?.close();
  }
}

const SNIPPET = syllable();

/** One engine per child process: a crash in one run (or at its teardown) cannot take the others down. */
function runChild(engine: string): EngineResult | { skipped: string } | { error: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', engine], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: (SECONDS + 120) * 1000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (line) return JSON.parse(line.slice('RESULT '.length)) as EngineResult | { skipped: string };
  return { error: `run failed (exit ${r.status}, signal ${r.signal})` };
}

async function main(): Promise<void> {
  if (!process.env.HUSHCAST_TEST_IP) throw new Error('run inside the test namespace: npm run bench:e2e-latency');
  const one = process.argv.indexOf('--one');
  if (one >= 0) {
    console.log(`RESULT ${JSON.stringify(await measure(process.argv[one + 1]!))}`);
    process.exit(0);
  }
  const results: Record<string, unknown> = {};
  const out = path.join(PROJECT_ROOT, 'bench', 'results', 'e2e-latency.json');
  mkdirSync(path.dirname(out), { recursive: true });
  for (const engine of ENGINES) {
    const r = runChild(engine);
    results[engine] = r;
    writeFileSync(
      out,
      JSON.stringify({ measured_at: new Date().toISOString(), seconds_per_engine: SECONDS, period_ms: PERIOD_MS, ...results }, null, 2) + '\n',
    );
    if ('skipped' in r) console.log(`${engine.padEnd(8)} skipped: ${r.skipped}`);
    else if ('error' in r) console.log(`${engine.padEnd(8)} ${r.error}`);
    else {
      console.log(
        `${engine.padEnd(8)} median ${r.median_ms} ms  p95 ${r.p95_ms} ms  (min ${r.min_ms}, max ${r.max_ms}; ${r.bursts_matched}/${r.bursts_sent} bursts)`,
      );
    }
  }
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
