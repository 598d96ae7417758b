// A broadcaster whose network vanishes mid-stream (no DTLS close_notify, no
// RTCP BYE, no more answers to ICE consent checks: a pulled cable, a laptop
// lid closed) must not leave a zombie session even when the no-media timeout
// is set longer than ICE needs to notice. werift declares the connection
// failed when consent expires (RFC 7675: 30 s without a consent response),
// so this file takes ~35 s.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RTCPeerConnection } from 'werift';
import { openMediaPlane, type MediaPlaneHarness } from './media-plane-harness.js';
import { loadSharedAudio, TestBroadcaster } from './media-peers.js';

/** Far beyond werift's 30 s consent expiry: only the ICE failure can end the session. */
const NO_MEDIA_MS = 120_000;

interface UdpSocketLike {
  removeAllListeners(event: string): void;
  send: (...args: unknown[]) => void;
}

/**
 * Cuts a werift peer off the network without telling anyone: its UDP sockets stop
 * delivering what arrives and silently drop what it sends.
 */
function pullTheCable(pc: RTCPeerConnection): number {
  let sockets = 0;
  for (const ice of pc.iceTransports) {
    const protocols = (ice.connection as unknown as { protocols: { transport?: { socket?: UdpSocketLike } }[] }).protocols;
    for (const p of protocols) {
      const socket = p.transport?.socket;
      if (!socket) continue;
      socket.removeAllListeners('message');
      socket.send = () => {};
      sockets++;
    }
  }
  return sockets;
}

describe('broadcaster network failure', () => {
  let harness: MediaPlaneHarness;

  before(async () => {
    harness = await openMediaPlane({ mediaWorkers: 1, noMediaTimeoutMs: NO_MEDIA_MS });
  });

  after(async () => {
    await harness?.close();
  });

  it('a broadcaster whose network vanishes is ended with ice-failed once ICE consent expires, recording finalized', async () => {
    const { plane, dir, ended } = harness;
    const sessionId = 'vanishing';
    const filePath = path.join(dir, 'vanishing.wav');
    await plane.startSession({
      sessionId,
      ownerId: 1,
      ownerName: 'ann',
      engine: 'none',
      denoise: { attenLimDb: null },
      recording: { filePath, rawFilePath: null },
      maxListeners: 10,
    });
    const b = new TestBroadcaster();
    try {
      await b.accept(await plane.answerBroadcaster(sessionId, await b.offer()));
      const playing = b.play(loadSharedAudio('noisy_snr0.wav').subarray(0, 48_000 * 60), {}, true);
      await new Promise((r) => setTimeout(r, 1000));
      const cutAt = performance.now();
      assert.ok(pullTheCable(b.pc) > 0, 'the broadcaster had a UDP socket to cut');

      const deadline = cutAt + 60_000;
      while (plane.hasSession(sessionId) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      const afterCutMs = performance.now() - cutAt;
      b.stop();
      void playing;

      assert.equal(plane.hasSession(sessionId), false, `the session was still live ${Math.round(afterCutMs)} ms after the network vanished`);
      const mine = ended.find((e) => e.summary.sessionId === sessionId);
      assert.equal(mine?.reason, 'ice-failed');
      assert.ok(afterCutMs < NO_MEDIA_MS, 'ended by the ICE failure, not by the no-media timeout');
      assert.ok(mine.summary.recording?.complete, 'the recording up to the cut is finalized');
      assert.ok((mine.summary.recording?.durationMs ?? 0) >= 900, `recording holds the audio before the cut (${mine.summary.recording?.durationMs} ms)`);
    } finally {
      await b.close().catch(() => undefined);
    }
  });
});
