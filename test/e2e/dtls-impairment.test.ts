// Chromium (the DTLS server: it offers actpass, hushcast answers active) and
// hushcast's media plane (the DTLS client) complete their handshake over a
// network that drops 20 % of DTLS datagrams, duplicates 5 % and reorders 25 %:
// a seeded UDP relay bound to the test namespace address, spliced in by
// rewriting the candidates of the offer and the answer on their way through
// the page. See docs/werift-dtls-retransmission.md.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { WorkerPoolMediaPlane } from '../../src/media/workers/worker-pool.js';
import { type Impairment, UdpImpairmentRelay, carriesFinished } from '../support/udp-impairment-relay.js';
import { burstSignal, writeWav } from './streaming-signals.js';
import { type TestServer, closeUser, launchChromium, newUser, startServer, testHost } from './support/index.js';

const BAD_NETWORK: Impairment = { loss: 0.2, duplicate: 0.05, reorder: 0.25, reorderMs: 30, dtlsOnly: true };
/** werift gives up after ~33 s of retransmissions: a handshake not done by then is stuck. */
const HANDSHAKE_LIMIT_MS = 35_000;

let dir: string;
let server: TestServer;
let browser: Browser;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'hc-e2e-dtls-'));
  const wav = path.join(dir, 'mic.wav');
  writeWav(wav, burstSignal(4));
  server = await startServer({ env: { DENOISE_ENGINE: 'none', NO_MEDIA_TIMEOUT_MS: String(HANDSHAKE_LIMIT_MS) } });
  browser = await launchChromium({
    fakeMicWav: wav,
    extraArgs: [`--unsafely-treat-insecure-origin-as-secure=${server.baseUrl}`],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One Chromium stream through `relay`: resolves with the packets the server's jitter buffer took (≥ 20 once connected). */
async function streamThrough(relay: UdpImpairmentRelay, prefix: string): Promise<number> {
  const media = server.app!.services.media as WorkerPoolMediaPlane;
  const user = await newUser(browser, server, { prefix, via: 'api' });
  try {
    // The offer goes out through the relay's ports for Chromium, the answer through the relay's ports for the server.
    await user.page.route('**/api/webrtc/offer/', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as { sdp: string };
      body.sdp = await relay.rewrite(body.sdp, testHost(), 'chromium');
      const response = await route.fetch({ postData: JSON.stringify(body) });
      const json = (await response.json()) as { sdp?: string };
      if (json.sdp) json.sdp = await relay.rewrite(json.sdp, testHost(), 'server');
      await route.fulfill({ response, json });
    });
    const started = user.page.waitForResponse((r) => r.url().endsWith('/api/stream/start/') && r.request().method() === 'POST');
    await user.page.getByTestId('stream-start').click();
    const { stream } = (await (await started).json()) as { stream: { session_id: string } };
    const received = await waitForAudio(media, stream.session_id, HANDSHAKE_LIMIT_MS);
    if (received >= 20) {
      await user.page.locator('[data-testid="stream-state"]', { hasText: /live/i }).waitFor({ timeout: HANDSHAKE_LIMIT_MS });
      await user.page.getByTestId('stream-stop').click();
      await user.page.getByTestId('stream-start').waitFor();
    }
    return received;
  } finally {
    relay.close();
    await closeUser(user);
  }
}

describe('Chromium broadcaster behind a lossy, duplicating, reordering network', () => {
  it("Chromium's lost final flight is sent again when hushcast retransmits its own (in new records: Chromium drops replayed ones)", async () => {
    let dropped = 0;
    // Chromium (the DTLS server) is connected once it has sent its Finished; only a retransmission of
    // hushcast's flight that Chromium accepts as new makes it send that Finished again.
    const relay = new UdpImpairmentRelay(1, {
      ...BAD_NETWORK,
      loss: 0,
      duplicate: 0,
      reorder: 0,
      drop: (datagram, from) => {
        if (dropped > 0 || from !== 'chromium' || !carriesFinished(datagram)) return false;
        dropped++;
        return true;
      },
    });
    const received = await streamThrough(relay, 'lastflight');
    assert.equal(dropped, 1, "Chromium's first Finished was dropped");
    assert.ok(received >= 20, `the server completed the handshake and decrypted Chromium's audio (${received} packets)`);
  });

  it('every stream connects on both sides and its audio reaches the server', async () => {
    for (let i = 0; i < 4; i++) {
      const relay = new UdpImpairmentRelay(400 + i, BAD_NETWORK);
      const received = await streamThrough(relay, 'lossy');
      assert.ok(received >= 20, `stream ${i}: the server decrypted Chromium's audio (${received} packets; relay ${JSON.stringify(relay.counters)})`);
    }
  });
});

/** Packets the server's jitter buffer took from this session once at least 20 arrived (or the count at the limit). */
async function waitForAudio(media: WorkerPoolMediaPlane, sessionId: string, limitMs: number): Promise<number> {
  const deadline = performance.now() + limitMs;
  let received = 0;
  while (performance.now() < deadline) {
    const stats = (await media.workerStats()).flatMap((w) => w.perSession).find((s) => s.sessionId === sessionId);
    received = stats?.jitter.received ?? 0;
    if (received >= 20) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return received;
}
