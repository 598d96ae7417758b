// Pure parts of the browser streaming client (web/src/stream).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatElapsed } from '../../web/src/stream/elapsed.js';
import { withPtime } from '../../web/src/stream/ptime.js';

const ANSWER = ['v=0', 'o=- 1 1 IN IP4 0.0.0.0', 's=-', 't=0 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=rtpmap:111 opus/48000/2', ''].join('\r\n');

test('the live timer counts 00:01, 00:02 … and shows hours past an hour', () => {
  assert.equal(formatElapsed(0), '00:00');
  assert.equal(formatElapsed(1000), '00:01');
  assert.equal(formatElapsed(1999), '00:01');
  assert.equal(formatElapsed(61_000), '01:01');
  assert.equal(formatElapsed(3_600_000 + 5_000), '1:00:05');
  assert.equal(formatElapsed(-500), '00:00', 'a client clock slightly behind the server never shows negative time');
});

test('the answer gets a=ptime in its audio section, once, keeping CRLF line ends', () => {
  const out = withPtime(ANSWER, 10);
  assert.equal(out, ANSWER.replace('opus/48000/2\r\n', 'opus/48000/2\r\na=ptime:10\r\n'));
  assert.equal(withPtime(out, 20), out, 'an existing ptime is left alone');
  const twoSections = ANSWER.replace('m=audio', 'm=audio 9 X 0\r\na=x\r\nm=audio');
  assert.match(withPtime(twoSections, 10), /a=x\r\na=ptime:10\r\nm=audio/);
  assert.equal(withPtime('v=0\r\n', 10), 'v=0\r\n', 'no audio section: unchanged');
});
