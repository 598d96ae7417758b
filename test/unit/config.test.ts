import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

test('config uses embedded defaults when the environment is empty', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.match(c.databaseUrl, /^sqlite:.*hushcast\.db$/);
  assert.equal(c.redisUrl, undefined);
  assert.equal(c.denoiseEngine, 'dfn3');
});

test('config rejects a bad variable with a message naming it', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ TLS_CERT_FILE: '/x.pem' }), /TLS_KEY_FILE/);
  assert.throws(() => loadConfig({ DENOISE_ENGINE: 'magic' }), /DENOISE_ENGINE/);
});
