// Listening is for friends, for the whole life of a listener (issue 11, finding 1):
// an unfriend racing a listen request must never leave the ex-friend with a
// listener peer on the media plane. Real server, real media worker, real werift
// peers on the server side; the race is run many times with two interleavings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { weriftOffer } from './streams-peers.js';
import { Client, befriend, eventually, startServer, workerSessionStats, type TestServer, type WsClient } from './streams-harness.js';

const HOST = process.env.HUSHCAST_TEST_IP || '127.0.0.1';
// No connect timeout or no-media end within the test: only the friendship may take a listener away.
const ENV = { DENOISE_ENGINE: 'none', MEDIA_WORKERS: '1', NO_MEDIA_TIMEOUT_MS: '600000', LISTENER_CONNECT_TIMEOUT_MS: '120000' };
const RACES = 60;
const MODES = ['together', 'in-worker', 'after-answer'] as const;

describe('listener authorization', () => {
  let server: TestServer;
  const clients: Client[] = [];

  before(async () => {
    server = await startServer({ host: HOST, env: ENV });
  });
  after(async () => {
    for (const c of clients) c.closeSockets();
    await server.close();
  });

  async function workerListeners(sessionId: string): Promise<number> {
    return (await workerSessionStats(server, sessionId))?.listeners ?? 0;
  }

  /** Messages that arrived on `ws` after the first `seen` ones. */
  function newer(ws: WsClient, seen: number, pred: (m: any) => boolean): (m: any) => boolean {
    return (m) => ws.messages.indexOf(m) >= seen && pred(m);
  }

  test(`a friend removed while their listen request is in flight never keeps a listener (${RACES} races)`, async () => {
    const ann = await new Client(server.base).signup('ann');
    const bob = await new Client(server.base).signup('bob');
    clients.push(ann, bob);
    const annWs = await ann.ws();
    const start = await ann.post('/api/stream/start/');
    assert.equal(start.status, 201);
    const sessionId = start.body.stream.session_id;
    const offer = await weriftOffer('recvonly');
    const outcomes = new Map<string, number>();

    for (let i = 0; i < RACES; i++) {
      await befriend(ann, bob);
      const seen = annWs.messages.length;
      const listen = bob.post('/api/webrtc/listen/', { username: 'ann', sdp: offer });
      const mode = MODES[i % MODES.length]!;
      let unfriend: Promise<{ status: number }>;
      if (mode === 'together') {
        // Both requests at once: the unfriend lands anywhere in the listen request.
        unfriend = ann.request('DELETE', '/api/friends/bob');
      } else if (mode === 'in-worker') {
        // The unfriend lands while the media worker is answering bob's offer (his peer exists there).
        // (When the answer comes back first, the listen request wins the race and the waiter is left to expire quietly.)
        const inWorker = annWs.waitFor(newer(annWs, seen, (m) => m.type === 'listener_count' && m.listeners > 0), 10_000).catch(() => undefined);
        await Promise.race([inWorker, listen]);
        unfriend = ann.request('DELETE', '/api/friends/bob');
      } else {
        // The unfriend right after bob got his answer.
        await listen;
        unfriend = ann.request('DELETE', '/api/friends/bob');
      }
      const [l, u] = await Promise.all([listen, unfriend]);
      assert.equal(u.status, 200, 'the unfriend succeeds');
      assert.ok(l.status === 200 || (l.status === 403 && l.body.error.code === 'NOT_FRIENDS'), `race ${i}: listen answered ${l.status} ${JSON.stringify(l.body)}`);
      const key = `${mode}:${l.status}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      // The invariant, once both requests are done: bob has no listener on ann's stream, in the media worker itself.
      await eventually(async () => (await workerListeners(sessionId)) === 0, 5000, `race ${i} (${key}): the ex-friend's listener removed from the media worker`);
      const status = await ann.get('/api/stream/status/');
      assert.equal(status.body.me.listeners, 0, `race ${i}: the broadcaster sees no listener`);
      const again = await bob.post('/api/webrtc/listen/', { username: 'ann', sdp: offer });
      assert.equal(again.status, 403, 'and the ex-friend cannot listen again');
    }
    console.log('listen outcomes:', Object.fromEntries(outcomes));
    assert.equal(await workerListeners(sessionId), 0);
    assert.equal((await ann.post('/api/stream/stop/')).status, 200);
  });
});
