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

test('RECORD_FORMAT is opus unless set to wav; anything else is refused naming the variable', () => {
  assert.equal(loadConfig({}).recordFormat, 'opus');
  assert.equal(loadConfig({ RECORD_FORMAT: 'wav' }).recordFormat, 'wav');
  for (const bad of ['mp3', 'ogg', 'OPUS']) assert.throws(() => loadConfig({ RECORD_FORMAT: bad }), /RECORD_FORMAT/, bad);
});

test('config rejects a bad variable with a message naming it', () => {
  assert.throws(() => loadConfig({ PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && /PORT/.test(e.message));
  assert.throws(() => loadConfig({ TLS_CERT_FILE: '/x.pem' }), /TLS_KEY_FILE/);
  assert.throws(() => loadConfig({ DENOISE_ENGINE: 'magic' }), /DENOISE_ENGINE/);
});

test('TRUST_PROXY is a hop count or a list of proxy addresses/CIDRs; "true" (every hop) and garbage are refused', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: '0' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,loopback,::1,fd00::/8' }).trustProxy, [
    '10.0.0.1',
    '192.168.0.0/16',
    'loopback',
    '::1',
    'fd00::/8',
  ]);
  for (const bad of ['true', 'yes', '10.0.0.0/33', 'proxy.example.org', '1.2.3', '99']) {
    assert.throws(() => loadConfig({ TRUST_PROXY: bad }), (e: unknown) => e instanceof ConfigError && /TRUST_PROXY/.test(e.message), bad);
  }
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
