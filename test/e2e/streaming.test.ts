// Live streaming in a real browser (issue 3 "Browser E2E"): Chromium with a
// fake microphone playing a WAV this test writes; the server binds the test
// namespace address so Chromium offers a usable ICE candidate.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  type TestServer,
  type TestUser,
  closeUser,
  launchChromium,
  makeFriends,
  newUser,
  openFriendPage,
  startServer,
  waitForPresence,
} from './support/index.js';
import { burstSignal, rms, segmentCorrelation, writeWav } from './streaming-signals.js';

const MIC_SECONDS = 2;

/** Collects `ms` of what the listen panel's player receives, as 48 kHz samples. */
async function captureListener(page: Page, ms: number): Promise<Float32Array> {
  const b64 = await page.evaluate(async (duration) => {
    const el = document.querySelector('[data-testid="stream-player"]') as HTMLAudioElement | null;
    if (!el?.srcObject) throw new Error('no stream on the player');
    const ctx = new AudioContext({ sampleRate: 48000 });
    const src = ctx.createMediaStreamSource(el.srcObject as MediaStream);
    const proc = ctx.createScriptProcessor(4096, 1, 1);
    const mute = ctx.createGain();
    mute.gain.value = 0;
    const chunks: Float32Array[] = [];
    proc.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(proc);
    proc.connect(mute);
    mute.connect(ctx.destination);
    await new Promise((r) => setTimeout(r, duration));
    proc.disconnect();
    await ctx.close();
    // Float32 bytes as base64: one string crosses the protocol instead of 100k JSON numbers.
    const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    const bytes = new Uint8Array(all.buffer);
    let bin = '';
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(bin);
  }, ms);
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

async function startStreaming(user: TestUser, page: Page = user.page): Promise<{ sessionId: string; startedAt: number }> {
  const response = page.waitForResponse((r) => r.url().endsWith('/api/stream/start/') && r.request().method() === 'POST');
  await page.getByTestId('stream-start').click();
  const r = await response;
  assert.equal(r.status(), 201, await r.text());
  const body = (await r.json()) as { stream: { session_id: string } };
  return { sessionId: body.stream.session_id, startedAt: Date.now() };
}

async function listen(listener: TestUser, broadcaster: string): Promise<void> {
  await listener.page.getByTestId(`listen-${broadcaster}`).click();
  await listener.page.getByTestId('friend-page').waitFor();
  await listener.page.getByTestId('listen-start').click();
  await listener.page.locator('[data-testid="connection-state"]', { hasText: 'connected' }).waitFor({ timeout: 15_000 });
  await listener.page.waitForFunction(() => Boolean((document.querySelector('[data-testid="stream-player"]') as HTMLAudioElement | null)?.srcObject));
}

/** Player gone, panel says offline, the server holds nothing for the session. */
async function assertStreamGone(server: TestServer, listener: Page, sessionId: string): Promise<void> {
  await listener.locator('.listen-panel[data-state="offline"]').waitFor({ timeout: 10_000 });
  assert.equal(await listener.getByTestId('stream-player').count(), 0, 'the player disappeared');
  const app = server.app!;
  const deadline = Date.now() + 5000;
  while (app.services.media!.hasSession(sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(app.services.media!.hasSession(sessionId), false, 'no media session left');
  assert.equal((await app.services.db.selectFrom('active_streams').selectAll().execute()).length, 0, 'no ActiveStream row left');
}

// Both servers and the browser are shared by the whole file: one Chromium, one fake microphone.
let dir: string;
let source: Float32Array;
let server: TestServer;
let rnnoiseServer: TestServer;
let browser: Browser;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hc-e2e-stream-'));
  source = burstSignal(MIC_SECONDS);
  const wav = path.join(dir, 'mic.wav');
  writeWav(wav, source);
  server = await startServer({ env: { DENOISE_ENGINE: 'none' } });
  rnnoiseServer = await startServer({ env: { DENOISE_ENGINE: 'rnnoise' } });
  browser = await launchChromium({ fakeMicWav: wav, extraArgs: browserArgs([server, rnnoiseServer]) });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await rnnoiseServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('streaming in the browser (engine none)', () => {
  test('a friend sees Live within a second, hears audio that correlates with the microphone, and the player goes away on stop', async () => {
    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    try {
      await makeFriends(server, ann, bob);
      await waitForPresence(bob.page, ann.username, 'online');
      await ann.page.getByTestId('stream-start').waitFor();
      assert.equal(await ann.page.getByTestId('engine').textContent(), 'none (pass-through)');

      const { sessionId, startedAt } = await startStreaming(ann);
      await waitForPresence(bob.page, ann.username, 'live', 5000);
      const badgeMs = Date.now() - startedAt;
      assert.ok(badgeMs <= 1000, `Live badge appeared ${badgeMs} ms after the start response (must be within 1 s)`);
      await bob.page.getByTestId(`listen-${ann.username}`).waitFor({ timeout: 1000 });

      await ann.page.locator('[data-testid="stream-state"]', { hasText: 'Live' }).waitFor({ timeout: 15_000 });
      await ann.page.locator('[data-testid="stream-timer"]', { hasText: /^00:0[1-9]$/ }).waitFor({ timeout: 5000 });
      await ann.page.waitForFunction(() => Number(document.querySelector('.level-meter')?.getAttribute('data-level')) > 0.2, null, { timeout: 5000 });

      await listen(bob, ann.username);
      await ann.page.locator('[data-testid="listener-count"]', { hasText: '1 listener' }).waitFor({ timeout: 5000 });
      await bob.page.locator('[data-testid="live-duration"]', { hasText: /^00:\d\d$/ }).waitFor();

      // Let the jitter buffers settle, then record what bob hears.
      await new Promise((r) => setTimeout(r, 1000));
      const heard = await captureListener(bob.page, 1500);
      assert.ok(rms(heard) > 0.01, `listener audio is silent (rms ${rms(heard)})`);
      const match = segmentCorrelation(heard, source);
      const control = segmentCorrelation(heard, burstSignal(MIC_SECONDS, 99));
      assert.ok(match > 0.6, `received audio correlates with the microphone input (median segment corr ${match.toFixed(3)})`);
      assert.ok(match > 2 * control, `and far better than with an unrelated signal (${match.toFixed(3)} vs ${control.toFixed(3)})`);

      await ann.page.getByTestId('stream-stop').click();
      await ann.page.getByTestId('stream-start').waitFor({ timeout: 10_000 });
      await assertStreamGone(server, bob.page, sessionId);
      await bob.page.locator('[data-testid="friend-page-badge"][data-presence="online"]').waitFor();
      assert.deepEqual(ann.errors.filter((e) => !e.includes('favicon')), []);
    } finally {
      await closeUser(ann);
      await closeUser(bob);
    }
  });

  test('moving between pages keeps the stream; closing the broadcasting tab ends it through the beforeunload beacon (another tab of the broadcaster stays open)', async () => {
    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    try {
      await makeFriends(server, ann, bob);
      const otherTab = await ann.context.newPage();
      await otherTab.goto('/');
      await otherTab.getByTestId('home-page').waitFor();
      await waitForPresence(bob.page, ann.username, 'online');
      const { sessionId } = await startStreaming(ann);
      await waitForPresence(bob.page, ann.username, 'live');
      await listen(bob, ann.username);

      // Moving around the app (a single-page app) keeps the stream going.
      await ann.page.getByTestId(`friend-link-${bob.username}`).click();
      await ann.page.getByTestId('friend-page').waitFor();
      await ann.page.getByTestId('back-home').click();
      await ann.page.locator('[data-testid="stream-state"]', { hasText: 'Live' }).waitFor();
      assert.equal(server.app!.services.media!.hasSession(sessionId), true);

      await ann.page.close({ runBeforeUnload: true });
      await assertStreamGone(server, bob.page, sessionId);
      // The other tab keeps ann online: the beacon, not the WebSocket, ended the stream.
      assert.equal(await server.app!.services.presence.isOnline((await userId(server, ann.username))!), true);
    } finally {
      await closeUser(ann);
      await closeUser(bob);
    }
  });

  test('closing every tab of the broadcaster ends the stream (last presence WebSocket closing)', async () => {
    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    try {
      await makeFriends(server, ann, bob);
      await waitForPresence(bob.page, ann.username, 'online');
      const { sessionId } = await startStreaming(ann);
      await waitForPresence(bob.page, ann.username, 'live');
      await listen(bob, ann.username);
      await closeUser(ann); // no beforeunload: only the WebSockets closing tell the server
      await assertStreamGone(server, bob.page, sessionId);
    } finally {
      await closeUser(ann);
      await closeUser(bob);
    }
  });
});

test('Start explains a page that is not a secure context and a denied microphone, and creates no stream', async () => {
  const insecure = await launchChromium({});
  const denied = await launchChromium({
    extraArgs: ['--use-fake-device-for-media-stream', '--deny-permission-prompts', browserArgs([server])[0]!],
  });
  try {
    for (const [b, expected] of [
      [insecure, /secure page: open hushcast over https/],
      [denied, /Microphone access was denied/],
    ] as const) {
      const ann = await newUser(b, server, { prefix: 'ann', via: 'api' });
      await ann.page.getByTestId('stream-start').click();
      await ann.page.getByTestId('stream-error').waitFor();
      assert.match((await ann.page.getByTestId('stream-error').textContent()) ?? '', expected);
      await ann.page.getByTestId('stream-start').waitFor();
      const id = await userId(server, ann.username);
      assert.equal((await server.app!.services.db.selectFrom('active_streams').selectAll().where('user_id', '=', id!).execute()).length, 0);
      await closeUser(ann);
    }
  } finally {
    await insecure.close();
    await denied.close();
  }
});

describe('streaming in the browser (engine rnnoise)', () => {
  test('a friend hears non-silent denoised audio and the strength control applies live', async () => {
    const server = rnnoiseServer;
    const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
    const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
    try {
      await makeFriends(server, ann, bob);
      await waitForPresence(bob.page, ann.username, 'online');
      const { sessionId } = await startStreaming(ann);
      assert.equal(await ann.page.getByTestId('engine').textContent(), 'RNNoise');
      await ann.page.locator('[data-testid="stream-state"]', { hasText: 'Live' }).waitFor({ timeout: 15_000 });
      await waitForPresence(bob.page, ann.username, 'live');
      await listen(bob, ann.username);
      await new Promise((r) => setTimeout(r, 1000));
      const heard = await captureListener(bob.page, 2000);
      assert.ok(rms(heard) > 0.005, `listener audio is silent (rms ${rms(heard)})`);

      const denoise = ann.page.waitForResponse((r) => r.url().endsWith('/api/stream/denoise/'));
      const slider = ann.page.locator('.denoise-strength input[type="range"]');
      await slider.fill('0');
      assert.equal((await denoise).status(), 200);
      await ann.page.locator('[data-testid="denoise-strength"]', { hasText: 'Off' }).waitFor();

      await ann.page.getByTestId('stream-stop').click();
      await assertStreamGone(server, bob.page, sessionId);
    } finally {
      await closeUser(ann);
      await closeUser(bob);
    }
  });
});

/**
 * The microphone needs a secure context; the test server is plain HTTP on the namespace
 * address, which Chromium treats as secure only when told so. The capture AudioContext in
 * captureListener starts without a click (the Listen button itself is clicked).
 */
function browserArgs(servers: TestServer[]): string[] {
  const origins = servers.map((s) => s.baseUrl).join(',');
  return [`--unsafely-treat-insecure-origin-as-secure=${origins}`, '--autoplay-policy=no-user-gesture-required'];
}

async function userId(server: TestServer, username: string): Promise<number | undefined> {
  const row = await server.app!.services.db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return row?.id;
}
