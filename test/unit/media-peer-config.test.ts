import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { announceAddress, parseIceServers, peerConfig } from '../../src/media/transport/peer-config.js';

const answer = [
  'v=0',
  'o=- 1 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=candidate:aaa 1 udp 2116026367 127.0.0.1 40001 typ host generation 0 ufrag x',
  'a=candidate:bbb 1 udp 2116026367 10.0.0.5 40002 typ host generation 0 ufrag x',
  'a=rtpmap:111 opus/48000/2',
  '',
].join('\r\n');

describe('peer configuration', () => {
  it('ICE_ANNOUNCED_ADDRESS adds a preferred twin of each non-loopback host candidate on the same port', () => {
    const sdp = announceAddress(answer, '203.0.113.7');
    const candidates = sdp.split('\r\n').filter((l) => l.startsWith('a=candidate'));
    assert.equal(candidates.length, 3);
    assert.ok(candidates.includes('a=candidate:bbbx 1 udp 2116026368 203.0.113.7 40002 typ host generation 0 ufrag x'));
    assert.ok(!candidates.some((c) => c.includes('203.0.113.7 40001')), 'loopback is not announced');
    assert.ok(sdp.endsWith('\r\n'));
  });

  it('ICE_SERVERS entries become RTCIceServers, credentials included; junk is refused', () => {
    assert.deepEqual(parseIceServers(['stun:stun.example.org:3478', 'turn:al%40ice:s3cret@turn.example.org:3478?transport=tcp']), [
      { urls: 'stun:stun.example.org:3478' },
      { urls: 'turn:turn.example.org:3478?transport=tcp', username: 'al@ice', credential: 's3cret' },
    ]);
    assert.throws(() => parseIceServers(['http://x']), /invalid ICE server/);
  });

  it('the port range and loopback gathering come from the configuration', () => {
    const c = peerConfig({ iceAnnouncedAddress: undefined, icePortMin: 40000, icePortMax: 40100, iceServers: [] });
    assert.deepEqual(c.icePortRange, [40000, 40100]);
    assert.deepEqual(c.iceAdditionalHostAddresses, ['127.0.0.1']);
    assert.equal(c.codecs?.audio?.[0]?.mimeType, 'audio/opus');
    assert.equal(c.codecs?.audio?.[0]?.channels, 2, 'opus/48000/2 even for mono');
  });
});
