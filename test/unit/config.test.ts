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
  assert.equal(c.mediaRtPriority, 10);
});

test('MEDIA_RT_PRIORITY takes 0 (off) to 99; anything else is refused', () => {
  assert.equal(loadConfig({ MEDIA_RT_PRIORITY: '0' }).mediaRtPriority, 0);
  assert.equal(loadConfig({ MEDIA_RT_PRIORITY: '99' }).mediaRtPriority, 99);
  for (const bad of ['100', '-1', '2.5', 'high']) assert.throws(() => loadConfig({ MEDIA_RT_PRIORITY: bad }), /MEDIA_RT_PRIORITY/, bad);
});

test('SRTP_FAST_PATH=0 sends and receives RTP through werift; a non-boolean is refused', () => {
  assert.equal(loadConfig({ SRTP_FAST_PATH: '0' }).srtpFastPath, false);
  assert.equal(loadConfig({ SRTP_FAST_PATH: 'true' }).srtpFastPath, true);
  assert.throws(() => loadConfig({ SRTP_FAST_PATH: 'maybe' }), /SRTP_FAST_PATH/);
});

test('config rejects a bad variable with a message naming it', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ TLS_CERT_FILE: '/x.pem' }), /TLS_KEY_FILE/);
  assert.throws(() => loadConfig({ DENOISE_ENGINE: 'magic' }), /DENOISE_ENGINE/);
});

test('NODE_ID defaults to hostname:PORT and refuses characters that do not belong in a Redis key name', () => {
  assert.match(loadConfig({ PORT: '8123' }).nodeId, /^.+:8123$/);
  assert.equal(loadConfig({ NODE_ID: 'node-a.eu_1' }).nodeId, 'node-a.eu_1');
  assert.throws(() => loadConfig({ NODE_ID: 'a b' }), /NODE_ID/);
});

test('RECORDINGS_DIR defaults to DATA_DIR/recordings and may point anywhere (a volume shared by all nodes)', () => {
  assert.equal(loadConfig({ DATA_DIR: '/srv/hc' }).recordingsDir, '/srv/hc/recordings');
  assert.equal(loadConfig({ DATA_DIR: '/srv/hc', RECORDINGS_DIR: '/mnt/shared/recordings' }).recordingsDir, '/mnt/shared/recordings');
});

test('CLUSTER_SECRET must be at least 16 characters', () => {
  assert.equal(loadConfig({ CLUSTER_SECRET: 'x'.repeat(16) }).clusterSecret, 'x'.repeat(16));
  assert.throws(() => loadConfig({ CLUSTER_SECRET: 'short' }), /CLUSTER_SECRET/);
});
