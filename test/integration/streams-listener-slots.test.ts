// Listener slots cannot be held by offers that never connect, nor filled by one
// friend (issue 11, finding 5). Real server, real media worker, werift peers.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { BroadcasterPeer, deadListenerOffer, ListenerPeer } from './streams-peers.js';
import { Client, befriend, eventually, startServer, workerSessionStats, type TestServer } from './streams-harness.js';

const HOST = process.env.HUSHCAST_TEST_IP || '127.0.0.1';
const BASE_ENV = { DENOISE_ENGINE: 'none', MEDIA_WORKERS: '1', NO_MEDIA_TIMEOUT_MS: '600000' };

describe('listener slots', () => {
  const servers: TestServer[] = [];
  const peers: Array<{ close(): Promise<void> }> = [];
  const clients: Client[] = [];

  after(async () => {
    for (const p of peers) await p.close().catch(() => undefined);
    for (const c of clients) c.closeSockets();
    for (const s of servers) await s.close();
  });

  async function people(server: TestServer, names: string[]): Promise<Client[]> {
    const out: Client[] = [];
    for (const name of names) out.push(await new Client(server.base).signup(name));
    clients.push(...out);
    for (const c of out.slice(1)) await befriend(out[0]!, c);
    return out;
  }

  async function workerListeners(server: TestServer, sessionId: string): Promise<number> {
    return (await workerSessionStats(server, sessionId))?.listeners ?? 0;
  }

  test('a listener whose ICE/DTLS has not completed within LISTENER_CONNECT_TIMEOUT_MS is dropped; its slot and its allowance are free again; a connected listener stays', async () => {
    const timeoutMs = 3000;
    const server = await startServer({
      host: HOST,
      env: { ...BASE_ENV, MAX_LISTENERS: '2', MAX_LISTENERS_PER_USER: '1', LISTENER_CONNECT_TIMEOUT_MS: String(timeoutMs) },
    });
    servers.push(server);
    const [ann, bob, carol, dave] = await people(server, ['ann', 'bob', 'carol', 'dave']);
    const annWs = await ann!.ws();
    const start = await ann!.post('/api/stream/start/');
    const sessionId = start.body.stream.session_id;
    const broadcaster = new BroadcasterPeer();
    peers.push(broadcaster);
    await broadcaster.connect(ann!, sessionId);
    broadcaster.startSending();

    // Two offers whose candidates lead nowhere take both slots…
    const bobListen = await bob!.post('/api/webrtc/listen/', { username: 'ann', sdp: await deadListenerOffer() });
    assert.equal(bobListen.status, 200);
    assert.equal((await carol!.post('/api/webrtc/listen/', { username: 'ann', sdp: await deadListenerOffer() })).status, 200);
    const full = await dave!.post('/api/webrtc/listen/', { username: 'ann', sdp: await deadListenerOffer() });
    assert.equal(full.status, 409);
    assert.equal(full.body.error.code, 'LISTENER_LIMIT');
    // …until they are expired for not connecting.
    await annWs.waitFor((m) => m.type === 'listener_count' && m.listeners === 0, 30_000);
    assert.equal(await workerListeners(server, sessionId), 0);
    const stale = await bob!.post('/api/webrtc/listen/stop/', { username: 'ann', listener_id: bobListen.body.listener_id });
    assert.equal(stale.status, 404, 'the control plane forgot the expired listener too');

    // A real friend gets the slot, connects and keeps it for longer than the connect timeout.
    const real = new ListenerPeer();
    peers.push(real);
    assert.equal((await real.listen(dave!, 'ann')).status, 200);
    await eventually(() => real.packets * 20 > 2 * timeoutMs, 30_000, 'the connected listener receives audio for twice the connect timeout');
    assert.equal(await workerListeners(server, sessionId), 1, 'a connected listener is never expired');
    // bob's allowance (MAX_LISTENERS_PER_USER=1) came back when his listener expired.
    assert.equal((await bob!.post('/api/webrtc/listen/', { username: 'ann', sdp: await deadListenerOffer() })).status, 200);
    assert.equal((await ann!.post('/api/stream/stop/')).status, 200);
  });

  test('one friend cannot hold more than MAX_LISTENERS_PER_USER listener peers of a stream; other friends still get in', async () => {
    const server = await startServer({
      host: HOST,
      env: { ...BASE_ENV, MAX_LISTENERS: '10', MAX_LISTENERS_PER_USER: '3', LISTENER_CONNECT_TIMEOUT_MS: '120000' },
    });
    servers.push(server);
    const [ann, bob, carol] = await people(server, ['ann', 'bob', 'carol']);
    const start = await ann!.post('/api/stream/start/');
    const sessionId = start.body.stream.session_id;
    const offer = await deadListenerOffer();

    const burst = await Promise.all(Array.from({ length: 10 }, () => bob!.post('/api/webrtc/listen/', { username: 'ann', sdp: offer })));
    const accepted = burst.filter((r) => r.status === 200);
    assert.equal(accepted.length, 3, `statuses ${burst.map((r) => r.status).join(',')}`);
    for (const r of burst.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'USER_LISTENER_LIMIT');
    }
    assert.equal(await workerListeners(server, sessionId), 3, 'refused requests created no peer');

    assert.equal((await carol!.post('/api/webrtc/listen/', { username: 'ann', sdp: offer })).status, 200, 'another friend still gets in');
    const stop = await bob!.post('/api/webrtc/listen/stop/', { username: 'ann', listener_id: accepted[0]!.body.listener_id });
    assert.equal(stop.status, 200);
    assert.equal((await bob!.post('/api/webrtc/listen/', { username: 'ann', sdp: offer })).status, 200, 'a freed place can be taken again');
    assert.equal((await bob!.post('/api/webrtc/listen/', { username: 'ann', sdp: offer })).status, 429);
    assert.equal((await ann!.post('/api/stream/stop/')).status, 200);
  });
});
