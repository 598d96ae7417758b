// DTLS handshakes over a network that drops, duplicates and reorders
// datagrams (a seeded UDP relay between the peers). werift 0.24.4 as shipped
// handled each handshake message as it arrived, so a duplicated or reordered
// flight was processed twice or out of order and the handshake stayed
// "connecting" (4 of 20 completed at 20 % loss); patches/werift+0.24.4.patch
// makes it process messages in message_seq order, exactly once, and answer a
// retransmitted flight with its last flight (RFC 6347 §4.2.2, §4.2.4).
// See docs/werift-dtls-retransmission.md.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMediaPlane, type MediaPlaneHarness } from './media-plane-harness.js';
import { loadSharedAudio, TestBroadcaster } from './media-peers.js';
import { type Impairment, UdpImpairmentRelay } from '../support/udp-impairment-relay.js';
import { describeDtls, handshakeThroughRelay } from '../support/werift-handshake.js';

const BAD_NETWORK: Impairment = { loss: 0.2, duplicate: 0.05, reorder: 0.25, reorderMs: 30, dtlsOnly: true };
/** werift gives up after ~33 s of retransmissions; a handshake that is not done by then is stuck. */
const HANDSHAKE_LIMIT_MS = 35_000;

async function inLanes<T>(count: number, lanes: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await run(i);
      }
    }),
  );
  return results;
}

describe('DTLS over a lossy, duplicating, reordering network', () => {
  it('two werift peers complete every handshake at 20 % loss, 5 % duplication and 25 % reordering', async () => {
    const results = await inLanes(24, 4, (i) => handshakeThroughRelay(100 + i, BAD_NETWORK, HANDSHAKE_LIMIT_MS));
    const stuck = results.map((r, i) => ({ ...r, i })).filter((r) => !r.connected);
    assert.deepEqual(
      stuck.map((r) => `#${r.i}: ${r.detail}`),
      [],
      `${stuck.length} of ${results.length} handshakes never completed`,
    );
  });

  it('a werift DTLS peer that already connected answers a retransmitted last flight instead of reprocessing it', async () => {
    // Every handshake datagram duplicated and half of them held back: each side sees
    // every flight twice, in the wrong order, after it has moved on.
    const duplicateAll: Impairment = { loss: 0, duplicate: 1, reorder: 0.5, reorderMs: 40, dtlsOnly: true };
    const results = await inLanes(8, 4, (i) => handshakeThroughRelay(200 + i, duplicateAll, HANDSHAKE_LIMIT_MS));
    assert.deepEqual(
      results.filter((r) => !r.connected).map((r) => r.detail),
      [],
    );
  });

  describe('hushcast media plane as the DTLS client', () => {
    let harness: MediaPlaneHarness;
    before(async () => {
      // A no-media limit shorter than these handshakes: silence counts from the connection
      // coming up, so a slow handshake over a lossy path does not end the stream.
      harness = await openMediaPlane({ mediaWorkers: 2, noMediaTimeoutMs: 1500 });
    });
    after(async () => {
      await harness?.close();
    });

    it('every broadcaster behind the bad network connects and its audio reaches the server', async () => {
      const { plane } = harness;
      const audio = loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000);

      await inLanes(8, 4, async (i) => {
        const sessionId = `lossy${i}`;
        await plane.startSession({
          sessionId,
          ownerId: i + 1,
          ownerName: `user${i}`,
          engine: 'none',
          denoise: { attenLimDb: null },
          recording: null,
          maxListeners: 1,
        });
        const relay = new UdpImpairmentRelay(300 + i, BAD_NETWORK);
        const b = new TestBroadcaster();
        try {
          const answer = await plane.answerBroadcaster(sessionId, await relay.rewrite(await b.offer()));
          await b.pc.setRemoteDescription({ type: 'answer', sdp: await relay.rewrite(answer) });
          await waitFor(
            () => b.pc.connectionState === 'connected',
            HANDSHAKE_LIMIT_MS,
            () => `broadcaster ${i} not connected: ${describeDtls(b.pc)}, relay ${JSON.stringify(relay.counters)}`,
          );
          // The broadcaster (DTLS server) is connected once it sent its last flight; if that flight is
          // lost the server connects only after retransmitting, so send until the server has audio.
          void b.play(audio, {}, true);
          let received = 0;
          await waitFor(
            () => received >= 40,
            HANDSHAKE_LIMIT_MS,
            () => `the server decrypted only ${received} packets of broadcaster ${i} (${describeDtls(b.pc)}, relay ${JSON.stringify(relay.counters)})`,
            async () => {
              const stats = (await plane.workerStats()).flatMap((w) => w.perSession).find((s) => s.sessionId === sessionId);
              assert.ok(stats, `session ${sessionId} is still live (the server's side of DTLS completed)`);
              received = stats.jitter.received;
            },
          );
          b.stop();
        } finally {
          relay.close();
          await b.close();
          await plane.stopSession(sessionId, 'stopped').catch(() => undefined);
        }
      });
    });
  });
});

async function waitFor(cond: () => boolean, limitMs: number, describe: () => string, refresh: () => Promise<void> = async () => {}): Promise<void> {
  const deadline = performance.now() + limitMs;
  await refresh();
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 50));
    await refresh();
  }
}
