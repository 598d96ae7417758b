import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_OFFER_CHARS, offerProblem } from '../../src/media/transport/sdp-offer-check.js';

const FP = 'sha-256 ' + Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');

/** Chrome 120's listener offer (recvonly audio), addresses hidden behind mDNS as Chrome does. */
const CHROME = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:3405263958 1 udp 2122260223 4b1a8f3e-51e1-4c1e-9a55-2f1f4c7e9a1b.local 54400 typ host generation 0 network-id 1',
  'a=candidate:1253587630 1 tcp 1518280447 4b1a8f3e-51e1-4c1e-9a55-2f1f4c7e9a1b.local 9 typ host tcptype active generation 0 network-id 1',
  'a=candidate:842163049 1 udp 1686052607 203.0.113.9 54400 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1',
  'a=ice-ufrag:V2nN',
  'a=ice-pwd:3ZBv1bLzTUq0p8dB0Gh+5qL/',
  'a=ice-options:trickle',
  `a=fingerprint:${FP}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=recvonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  '',
].join('\r\n');

/** Firefox 121's broadcaster offer (sendrecv), session-level fingerprint, UPPER-case transports. */
const FIREFOX = [
  'v=0',
  'o=mozilla...THIS_IS_SDPARTA-99.0 5173545151745464264 0 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  `a=fingerprint:${FP}`,
  'a=group:BUNDLE 0',
  'a=ice-options:trickle',
  'a=msid-semantic:WMS *',
  'm=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101',
  'c=IN IP4 0.0.0.0',
  'a=candidate:0 1 UDP 2122252543 0b3f1c55-7d0e-4a50-b6d4-3f0d9a2b9c11.local 50607 typ host',
  'a=candidate:1 1 TCP 2105524479 0b3f1c55-7d0e-4a50-b6d4-3f0d9a2b9c11.local 9 typ host tcptype active',
  'a=sendrecv',
  'a=end-of-candidates',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1',
  'a=fmtp:101 0-15',
  'a=ice-pwd:f1b3d2a4c5e6f7a8b9c0d1e2f3a4b5c6',
  'a=ice-ufrag:9e2c4a1b',
  'a=mid:0',
  'a=msid:{5d2a3b1c-0000-4000-8000-000000000000} {6e3b4c2d-0000-4000-8000-000000000000}',
  'a=rtcp-mux',
  'a=rtpmap:109 opus/48000/2',
  'a=rtpmap:9 G722/8000/1',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000/1',
  'a=setup:actpass',
  'a=ssrc:2846519137 cname:{7f4c5d3e-0000-4000-8000-000000000000}',
  '',
].join('\r\n');

describe('SDP offer rules (before werift sees an offer)', () => {
  it("accepts Chrome's and Firefox's audio offers", () => {
    assert.equal(offerProblem(CHROME, 'receive'), null);
    assert.equal(offerProblem(FIREFOX, 'send'), null);
    assert.equal(offerProblem(FIREFOX, 'receive'), null, 'sendrecv serves both roles');
    assert.equal(offerProblem(CHROME.replaceAll('\r\n', '\n'), 'receive'), null, 'bare LF line ends');
  });

  it('refuses an offer in the wrong direction for its role', () => {
    assert.match(offerProblem(CHROME, 'send')!, /broadcaster offer must send audio \(it is recvonly\)/);
    assert.match(offerProblem(FIREFOX.replace('a=sendrecv', 'a=inactive'), 'receive')!, /listener offer must receive audio/);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['not an SDP', 'hello', /v=0/],
    ['empty', '', /empty/],
    ['too large', CHROME + 'a=x\r\n'.repeat(8000), /larger than/],
    ['an md5 fingerprint', CHROME.replace(`a=fingerprint:${FP}`, 'a=fingerprint:md5 AA:BB:CC'), /sha-256/],
    ['a garbage sha-256 fingerprint', CHROME.replace(`a=fingerprint:${FP}`, 'a=fingerprint:sha-256 zzz'), /sha-256/],
    ['no fingerprint', CHROME.replace(`a=fingerprint:${FP}\r\n`, ''), /no DTLS fingerprint/],
    ['a 20-digit m-line port', CHROME.replace('m=audio 9 ', 'm=audio 99999999999999999999 '), /m=audio <port>|port/],
    ['m-line port 70000', CHROME.replace('m=audio 9 ', 'm=audio 70000 '), /port is out of range/],
    ['a candidate port 99999', CHROME.replace('.local 54400 typ host', '.local 99999 typ host'), /candidate port/],
    ['a NUL byte in ice-ufrag', CHROME.replace('a=ice-ufrag:V2nN', 'a=ice-ufrag:V2\u0000nN'), /control/],
    ['a 3-character ice-ufrag', CHROME.replace('a=ice-ufrag:V2nN', 'a=ice-ufrag:V2n'), /ice-ufrag/],
    ['a 21-character ice-pwd', CHROME.replace('a=ice-pwd:3ZBv1bLzTUq0p8dB0Gh+5qL/', 'a=ice-pwd:3ZBv1bLzTUq0p8dB0Gh+5'), /ice-pwd/],
    ['no ice-pwd', CHROME.replace('a=ice-pwd:3ZBv1bLzTUq0p8dB0Gh+5qL/\r\n', ''), /ICE credentials/],
    ['two ICE usernames', CHROME + 'a=ice-ufrag:Other\r\n', /conflicting ICE credentials/],
    ['70 m-lines', CHROME + CHROME.slice(CHROME.indexOf('m=audio')).repeat(69), /exactly one media section|lines|larger/],
    ['a second (video) m-line', CHROME + 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n', /exactly one media section/],
    ['a data channel section', CHROME + 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n', /exactly one media section/],
    ['video instead of audio', CHROME.replace('m=audio', 'm=video'), /m=audio/],
    ['no opus', CHROME.replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 L16/48000/2'), /opus/],
    ['an fmtp for a payload type the m-line lacks', CHROME + 'a=fmtp:99 x=1\r\n', /payload type 99/],
    ['a payload type above 127', CHROME.replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 300'), /out of range/],
    ['no a=mid', CHROME.replace('a=mid:0\r\n', ''), /a=mid/],
    ['a malformed candidate', CHROME.replace(/a=candidate:3405263958[^\r]*/, 'a=candidate:x'), /candidate/],
    ['a bad a=setup', CHROME.replace('a=setup:actpass', 'a=setup:sideways'), /a=setup/],
    ['a blank line inside', CHROME.replace('s=-\r\n', 's=-\r\n\r\n'), /<letter>=<value>/],
    ['non-ASCII text', CHROME.replace('s=-', 's=\u00e9t\u00e9'), /non-ASCII/],
    ['too many candidates', CHROME.replace('a=ice-ufrag', 'a=candidate:1 1 udp 1 10.0.0.1 1 typ host\r\n'.repeat(65) + 'a=ice-ufrag'), /more than 64 ICE candidates/],
  ];
  for (const [what, sdp, why] of refused) {
    it(`refuses ${what}`, () => {
      const problem = offerProblem(sdp, 'receive');
      assert.ok(problem, `accepted ${what}`);
      assert.match(problem, why);
    });
  }

  it('caps offers at MAX_OFFER_CHARS', () => {
    assert.equal(MAX_OFFER_CHARS, 32 * 1024);
  });
});
