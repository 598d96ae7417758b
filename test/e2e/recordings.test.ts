// Recordings in a real browser (issue 4 "Browser E2E"): a friend's stream ends,
// the recording appears on the friend page without a reload, plays (the audio
// element's currentTime advances), seeks from the waveform and the slider, and
// downloads as a WAV; the owner deletes it from the main page.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { parseWavHeader } from '../../src/media/recording/wav.js';
import { burstSignal, writeWav } from './streaming-signals.js';
import { type TestServer, launchChromium, makeFriends, newUser, openFriendPage, startServer, waitForPresence } from './support/index.js';

let dir: string;
let server: TestServer;
let browser: Browser;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hc-e2e-rec-'));
  const mic = path.join(dir, 'mic.wav');
  writeWav(mic, burstSignal(2));
  // RECORD_FORMAT=wav: WAV recordings in the browser (recordings-opus.test.ts covers Opus).
  server = await startServer({ env: { DENOISE_ENGINE: 'none', RECORD_FORMAT: 'wav' } });
  // getUserMedia needs a secure context; the test address is plain http.
  browser = await launchChromium({ fakeMicWav: mic, extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${server.baseUrl}`] });
});
after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const audioTime = (page: Page) =>
  page.evaluate(() => (document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement).currentTime);

test('a friend sees the recording appear when the stream ends, plays it, seeks, downloads it; the owner deletes it', async () => {
  const ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
  const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
  await makeFriends(server, ann, bob);
  await waitForPresence(bob.page, ann.username, 'online');
  await openFriendPage(bob.page, ann.username);
  const friendSection = bob.page.getByTestId('friend-recordings-section');
  await friendSection.getByTestId('recordings-empty').waitFor();

  // ann streams about 3 s from the fake microphone, then stops.
  await ann.page.getByTestId('stream-start').click();
  await ann.page.locator('[data-testid="stream-state"]', { hasText: 'Live' }).waitFor({ timeout: 15_000 });
  await ann.page.locator('[data-testid="stream-timer"]', { hasText: /^00:0[3-9]$/ }).waitFor({ timeout: 15_000 });
  await ann.page.getByTestId('stream-stop').click();
  await ann.page.getByTestId('stream-start').waitFor({ timeout: 10_000 });

  // bob's open page lists it in real time (no reload), with duration and size.
  const item = friendSection.getByTestId('recording-item');
  await item.waitFor({ timeout: 5000 });
  assert.equal(await item.count(), 1);
  const id = Number(await item.getAttribute('data-recording-id'));
  const row = await server.app!.services.db.selectFrom('stream_recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.ok(row.duration_ms >= 3000, `recorded ${row.duration_ms} ms`);
  assert.match((await item.getByTestId('recording-duration').textContent()) ?? '', /^0:0[3-9]$/);
  assert.match((await item.getByTestId('recording-size').textContent()) ?? '', /KB$/);
  assert.equal(await item.getByTestId('recording-delete').count(), 0, 'a friend cannot delete');

  // Play: the audio element's clock advances.
  await item.getByTestId('recording-play').click();
  const player = bob.page.getByTestId('recording-player');
  await player.waitFor();
  await bob.page.waitForFunction(() => {
    const el = document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement | null;
    return el !== null && !el.paused && el.currentTime > 0.3;
  }, null, { timeout: 10_000 });
  const t1 = await audioTime(bob.page);
  // currentTime advances while playing (waits for it rather than for a fixed time).
  await bob.page.waitForFunction(
    (start) => ((document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement | null)?.currentTime ?? 0) > start,
    t1,
    { timeout: 10_000 },
  );
  // The waveform was drawn from the server's peaks.
  await bob.page.waitForFunction(() => {
    // wavesurfer.js draws into canvases inside a shadow root of its wrapper.
    const host = document.querySelector('[data-testid="recording-waveform"]')?.firstElementChild;
    return Boolean(host?.shadowRoot?.querySelector('canvas'));
  }, null, { timeout: 5000 });

  // Seek by clicking the waveform at 80 %, then with the slider back to 0.5 s.
  await bob.page.getByTestId('recording-toggle').click(); // pause, so the position stays put
  const wave = bob.page.getByTestId('recording-waveform');
  const box = (await wave.boundingBox())!;
  await wave.click({ position: { x: box.width * 0.8, y: box.height / 2 } });
  const duration = row.duration_ms / 1000;
  await bob.page.waitForFunction((d) => {
    const t = (document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement).currentTime;
    return Math.abs(t - 0.8 * d) < 0.25;
  }, duration, { timeout: 5000 });
  await bob.page.getByTestId('recording-seek').fill('0.5');
  await bob.page.waitForFunction(() => Math.abs((document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement).currentTime - 0.5) < 0.05, null, { timeout: 5000 });
  await bob.page.getByTestId('recording-toggle').click();
  await bob.page.waitForFunction(() => (document.querySelector('[data-testid="recording-audio"]') as HTMLAudioElement).currentTime > 0.7, null, { timeout: 5000 });

  // Download: a WAV file of the recording's size.
  const [download] = await Promise.all([bob.page.waitForEvent('download'), item.getByTestId('recording-download').click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^${ann.username}_\\d{8}T\\d{6}_\\d{3}Z\\.wav$`));
  const saved = path.join(dir, 'download.wav');
  await download.saveAs(saved);
  const bytes = readFileSync(saved);
  assert.equal(bytes.length, row.size_bytes);
  assert.equal(parseWavHeader(bytes).dataSize, bytes.length - 44);

  // The owner sees it on the main page and deletes it (two steps); it is gone for both.
  const own = ann.page.getByTestId('recordings-section').getByTestId('recording-item');
  await own.waitFor();
  await own.getByTestId('recording-delete').click();
  await own.getByTestId('recording-delete-confirm').click();
  await ann.page.getByTestId('recordings-section').getByTestId('recordings-empty').waitFor({ timeout: 5000 });
  assert.equal(await server.app!.services.db.selectFrom('stream_recordings').select('id').where('id', '=', id).executeTakeFirst(), undefined);
  // bob's open friend page drops it live (recording_deleted), player included, no reload.
  await friendSection.getByTestId('recordings-empty').waitFor({ timeout: 5000 });
  assert.equal(await friendSection.getByTestId('recording-item').count(), 0);
  assert.equal(await bob.page.getByTestId('recording-player').count(), 0, 'the player of a deleted recording goes away');

  assert.deepEqual(bob.errors, []);
  assert.deepEqual(ann.errors, []);
});
