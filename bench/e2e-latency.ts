// End-to-end latency: broadcaster capture → server (decode, denoise, encode,
// fan-out) → listener playout, in headless Chromium, per denoise engine.
//
// Both pages live in one browser, so `performance.timeOrigin + performance.now()`
// is one clock for both. The broadcaster's "microphone" is a WebAudio graph
// (getUserMedia is replaced in that page) that emits a voiced burst every
// PERIOD_MS; the same onset detector (a ScriptProcessor of 256 samples) runs on
// the broadcaster's captured stream and on the listener's received stream, so
// detector delay cancels out. Latency = listener onset − broadcaster onset.
//
//   npm run bench:e2e-latency            (runs inside the test network namespace)
//   BENCH_SECONDS=30 npm run bench:e2e-latency
// Writes bench/results/e2e-latency.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/config.js';
import { launchChromium } from '../test/e2e/support/browser.js';
import { startServer, type TestServer } from '../test/e2e/support/server.js';
import { makeFriends, newUser, openFriendPage } from '../test/e2e/support/users.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PERIOD_MS = 400;
const ENGINES = (process.env.BENCH_ENGINES ?? 'none,rnnoise,dfn3').split(',') as Array<'none' | 'rnnoise' | 'dfn3'>;

/** Runs in both pages: timestamps burst onsets on a MediaStream into window.__onsets (ms, shared clock). */
const DETECTOR = `
window.__detect = (stream) => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const src = ctx.createMediaStreamSource(stream);
  const proc = ctx.createScriptProcessor(256, 1, 1);
  const mute = ctx.createGain();
  mute.gain.value = 0;
  window.__onsets = [];
  let quiet = 0;
  proc.onaudioprocess = (e) => {
    const now = performance.timeOrigin + performance.now();
    const x = e.inputBuffer.getChannelData(0);
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]);
      if (a > 0.08 && quiet > 4800) {
        window.__onsets.push(now - ((x.length - i) / ctx.sampleRate) * 1000);
        quiet = 0;
      } else if (a < 0.02) quiet++;
      else quiet = 0;
    }
  };
  src.connect(proc);
  proc.connect(mute);
  mute.connect(ctx.destination);
  window.__detectCtx = ctx;
};`;

/** Broadcaster page: getUserMedia returns a WebAudio stream of voiced bursts (180 Hz harmonics, 80 ms). */
const FAKE_MIC = `
${DETECTOR}
navigator.mediaDevices.getUserMedia = async () => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const n = 16, real = new Float32Array(n), imag = new Float32Array(n);
  for (let k = 1; k < n; k++) imag[k] = 1 / k;
  const osc = ctx.createOscillator();
  osc.setPeriodicWave(ctx.createPeriodicWave(real, imag));
  osc.frequency.value = 180;
  const gain = ctx.createGain();
  gain.gain.value = 0;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  const t0 = ctx.currentTime + 0.5;
  for (let i = 0; i < ${Math.ceil((SECONDS + 30) * (1000 / PERIOD_MS))}; i++) {
    const t = t0 + i * ${PERIOD_MS / 1000};
    gain.gain.setValueAtTime(0, t);
    gain.gain.linearRampToValueAtTime(0.45, t + 0.002);
    gain.gain.setValueAtTime(0.45, t + 0.078);
    gain.gain.linearRampToValueAtTime(0, t + 0.08);
  }
  window.__micCtx = ctx;
  window.__detect(dest.stream);
  return dest.stream;
};`;

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

async function onsets(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __onsets?: number[] }).__onsets ?? []);
}

async function measure(browser: Browser, engine: string): Promise<EngineResult | { skipped: string }> {
  let server: TestServer | undefined;
  try {
    server = await startServer({ env: { DENOISE_ENGINE: engine } });
    const health = (await (await fetch(`${server.baseUrl}/api/health`)).json()) as { denoise: { engine: string; fallback_reason: string | null } };
    if (health.denoise.engine !== engine) return { skipped: `engine ${engine} unavailable: ${health.denoise.fallback_reason ?? 'fell back'}` };

    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    await makeFriends(server, ann, bob);
    await ann.page.addInitScript(FAKE_MIC);
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
    const sentBefore = (await onsets(ann.page)).length;
    const heardBefore = (await onsets(bob.page)).length;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const sent = (await onsets(ann.page)).slice(sentBefore);
    const heard = (await onsets(bob.page)).slice(heardBefore);
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
    await server?.close();
  }
}

async function main(): Promise<void> {
  if (!process.env.HUSHCAST_TEST_IP) throw new Error('run inside the test namespace: npm run bench:e2e-latency');
  const browser = await launchChromium({ extraArgs: ['--autoplay-policy=no-user-gesture-required'] });
  const results: Record<string, unknown> = {};
  try {
    for (const engine of ENGINES) {
      const r = await measure(browser, engine);
      results[engine] = r;
      if ('skipped' in r) console.log(`${engine.padEnd(8)} skipped: ${r.skipped}`);
      else {
        console.log(
          `${engine.padEnd(8)} median ${r.median_ms} ms  p95 ${r.p95_ms} ms  (min ${r.min_ms}, max ${r.max_ms}; ${r.bursts_matched}/${r.bursts_sent} bursts)`,
        );
      }
    }
  } finally {
    await browser.close();
  }
  const out = path.join(PROJECT_ROOT, 'bench', 'results', 'e2e-latency.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify({ measured_at: new Date().toISOString(), seconds_per_engine: SECONDS, period_ms: PERIOD_MS, ...results }, null, 2) + '\n',
  );
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
