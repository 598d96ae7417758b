import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

test('config uses embedded defaults when the environment is empty', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.match(c.databaseUrl, /^sqlite:.*hushcast\.db$/);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.denoiseEngine, 'dfn3');
  assert.equal(c.srtpFastPath, true);
});

test('SRTP_FAST_PATH=0 sends listener RTP through werift; a non-boolean is refused', () => {
  assert.equal(loadConfig({ SRTP_FAST_PATH: '0' }).srtpFastPath, false);
  assert.equal(loadConfig({ SRTP_FAST_PATH: 'true' }).srtpFastPath, true);
  assert.throws(() => loadConfig({ SRTP_FAST_PATH: 'maybe' }), /SRTP_FAST_PATH/);
});

test('config rejects a bad variable with a message naming it', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ TLS_CERT_FILE: '/x.pem' }), /TLS_KEY_FILE/);
  assert.throws(() => loadConfig({ DENOISE_ENGINE: 'magic' }), /DENOISE_ENGINE/);
});
