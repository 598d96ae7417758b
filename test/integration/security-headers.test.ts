// Security headers on the real server serving the built web app: a CSP that
// fits the app, no sniffing, no framing, a same-origin Referrer-Policy, and
// no-store on private JSON and private audio.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { createRecording, finalizeRecording } from '../../src/store/recordings.js';
import { Client, type TestApp, startTestApp } from '../support/test-app.js';

let t: TestApp;
before(async () => {
  t = await startTestApp({}, { serveWeb: true });
});
after(() => t.close());

function assertCommonHeaders(h: Headers, what: string): void {
  assert.equal(h.get('x-content-type-options'), 'nosniff', what);
  assert.equal(h.get('x-frame-options'), 'DENY', what);
  assert.equal(h.get('referrer-policy'), 'same-origin', what);
  const csp = h.get('content-security-policy') ?? '';
  for (const d of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "media-src 'self' blob:", "connect-src 'self'"]) {
    assert.ok(csp.split(';').includes(d), `${what}: CSP has ${d}: ${csp}`);
  }
  assert.doesNotMatch(csp, /upgrade-insecure-requests/, `${what}: plain HTTP keeps working`);
  // Over plain HTTP browsers ignore (and Chromium complains about) these two; they are sent over HTTPS.
  assert.equal(h.get('cross-origin-opener-policy'), null, what);
  assert.equal(h.get('strict-transport-security'), null, what);
}

test('the web app page, its deep links and its assets carry the CSP, nosniff, frame denial and Referrer-Policy', async () => {
  const page = await fetch(`${t.base}/`);
  assert.equal(page.status, 200);
  assertCommonHeaders(page.headers, '/');
  assertCommonHeaders((await fetch(`${t.base}/friends/someone`)).headers, 'SPA deep link');
  const script = (await page.text()).match(/src="(\/assets\/[^"]+\.js)"/)![1]!;
  assertCommonHeaders((await fetch(t.base + script)).headers, script);
});

test('private API JSON is Cache-Control: no-store, signed in or not', async () => {
  const c = new Client(t.base);
  const out = await c.get('/api/auth/me');
  assert.equal(out.status, 401);
  assert.equal(out.headers.get('cache-control'), 'no-store');
  await c.signup('headers_user');
  for (const url of ['/api/auth/me', '/api/friends', '/api/recordings/']) {
    const r = await c.get(url);
    assert.equal(r.status, 200, url);
    assert.equal(r.headers.get('cache-control'), 'no-store', url);
    assertCommonHeaders(r.headers, url);
  }
});

test('private audio, whole or a range, is Cache-Control: no-store', async () => {
  const c = new Client(t.base);
  const userId = (await c.signup('headers_owner')).body.user.id;
  const rec = WavRecorder.open(path.join(t.config.recordingsDir, 'headers_owner_x.wav'), 48000);
  rec.write(new Float32Array(4800));
  const r = rec.close();
  const id = await createRecording(t.db, { ownerId: userId, fileName: 'headers_owner_x.wav', rawFileName: null, startedAt: '2026-01-01T00:00:00.000Z', sampleRate: 48000, engine: 'none' });
  await finalizeRecording(t.db, id, { endedAt: '2026-01-01T00:00:01.000Z', durationMs: r.durationMs, sizeBytes: r.sizeBytes, status: 'complete' });
  const whole = await fetch(`${t.base}/api/recordings/${id}/audio`, { headers: { cookie: c.cookie } });
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get('cache-control'), 'no-store');
  const part = await fetch(`${t.base}/api/recordings/${id}/audio`, { headers: { cookie: c.cookie, range: 'bytes=0-99' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('cache-control'), 'no-store');
  assert.equal(part.headers.get('x-content-type-options'), 'nosniff');
});
