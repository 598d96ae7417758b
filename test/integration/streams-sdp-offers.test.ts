// Offers are checked before werift parses them, and no response body carries an
// internal exception text (issue 11, finding 13). Real server, real media worker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { weriftOffer } from './streams-peers.js';
import { Client, befriend, startServer, tableCounts, workerSessionStats, type TestServer } from './streams-harness.js';

const HOST = process.env.HUSHCAST_TEST_IP || '127.0.0.1';
const ENV = { DENOISE_ENGINE: 'none', MEDIA_WORKERS: '1', NO_MEDIA_TIMEOUT_MS: '600000' };

/** What werift or JavaScript says when it chokes on an offer; none of it may reach a client. */
const INTERNAL_TEXT = /undefined|Cannot |TypeError|not exist|not assigned|negotiate codecs|enough properties|sctp/i;

/** Offers werift would answer (200) or choke on (400 with its exception text), built from a genuine one. */
function hostileVariants(sdp: string): Array<[string, string]> {
  const media = sdp.slice(sdp.indexOf('m=audio'));
  return [
    ['an md5 fingerprint', sdp.replace(/a=fingerprint:sha-256 \S+/, 'a=fingerprint:md5 AA:BB:CC:DD')],
    ['a garbage fingerprint', sdp.replace(/a=fingerprint:sha-256 \S+/, 'a=fingerprint:sha-256 zzz')],
    ['a 20-digit m-line port', sdp.replace(/^m=audio \d+/m, 'm=audio 99999999999999999999')],
    ['a candidate port above 65535', sdp.replace(/(a=candidate:\S+ \d+ udp \d+ \S+ )\d+/, '$199999')],
    ['a NUL byte in ice-ufrag', sdp.replace(/a=ice-ufrag:(\S+)/, 'a=ice-ufrag:ab\u0000cd')],
    ['70 m-lines', sdp + media.repeat(69).slice(0, 30_000)],
    ['an fmtp for a payload type it does not offer', sdp + 'a=fmtp:99 x=1\r\n'],
    ['a data channel section', sdp + 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n'],
    ['no a=mid', sdp.replace(/a=mid:.*\r\n/g, '')],
    ['no ICE password', sdp.replace(/a=ice-pwd:.*\r\n/, '')],
    ['a malformed candidate', sdp.replace(/a=candidate:.*\r\n/, 'a=candidate:x\r\n')],
  ];
}

describe('SDP offers at the streaming routes', () => {
  let server: TestServer;
  let ann: Client;
  let bob: Client;
  let sessionId: string;

  before(async () => {
    server = await startServer({ host: HOST, env: ENV });
    ann = await new Client(server.base).signup('ann');
    bob = await new Client(server.base).signup('bob');
    await befriend(ann, bob);
    const start = await ann.post('/api/stream/start/');
    assert.equal(start.status, 201);
    sessionId = start.body.stream.session_id;
  });
  after(async () => {
    await server.close();
  });

  test('listener offers werift would accept or choke on are refused with 400 BAD_SDP, a message of ours and no peer created', async () => {
    const genuine = await weriftOffer('recvonly');
    const before = await tableCounts(server.db);
    for (const [what, sdp] of hostileVariants(genuine)) {
      const r = await bob.post('/api/webrtc/listen/', { username: 'ann', sdp });
      assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'BAD_SDP', what);
      assert.doesNotMatch(r.body.error.message, INTERNAL_TEXT, what);
    }
    assert.equal((await workerSessionStats(server, sessionId))?.listeners, 0, 'no refused offer reached werift');
    assert.deepEqual(await tableCounts(server.db), before);
    const ok = await bob.post('/api/webrtc/listen/', { username: 'ann', sdp: genuine });
    assert.equal(ok.status, 200, 'a genuine offer is still answered');
    assert.equal((await bob.post('/api/webrtc/listen/stop/', { username: 'ann', listener_id: ok.body.listener_id })).status, 200);
  });

  test('broadcaster offers werift would accept or choke on are refused with 400 BAD_SDP and leave the stream waiting for a good one', async () => {
    const genuine = await weriftOffer('sendonly');
    for (const [what, sdp] of hostileVariants(genuine)) {
      const r = await ann.post('/api/webrtc/offer/', { session_id: sessionId, sdp });
      assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'BAD_SDP', what);
      assert.doesNotMatch(r.body.error.message, INTERNAL_TEXT, what);
    }
    const ok = await ann.post('/api/webrtc/offer/', { session_id: sessionId, sdp: genuine });
    assert.equal(ok.status, 200, `a genuine offer is still answered: ${JSON.stringify(ok.body)}`);
    assert.match(ok.body.sdp, /^v=0/);
  });
});
