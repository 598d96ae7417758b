// TRUST_PROXY over the real route: the client address is the one the trusted
// proxies saw, whatever a client writes further left in X-Forwarded-For.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { type TestApp, startTestApp } from '../support/test-app.js';

const HOST = 'hushcast.test';

function signIn(t: TestApp, remoteAddress: string, forwardedFor: string, username: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/signin',
    remoteAddress,
    headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    payload: JSON.stringify({ username, password: 'wrong-password' }),
  });
}

describe('TRUST_PROXY=1 trusts one hop', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ trustProxy: loadConfig({ TRUST_PROXY: '1' }).trustProxy });
  });
  after(() => t.close());

  test('a client rotating the left of X-Forwarded-For is still one address: the 21st failure is 429, another client is not locked', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await signIn(t, '127.0.0.1', `198.51.100.${i}, 203.0.113.7`, `rotating_${i}`);
      assert.equal(r.statusCode, 401);
    }
    const locked = await signIn(t, '127.0.0.1', '198.51.100.99, 203.0.113.7', 'rotating_99');
    assert.equal(locked.statusCode, 429);
    assert.match(JSON.parse(locked.body).error.message, /from your network address/);
    assert.equal((await signIn(t, '127.0.0.1', '198.51.100.99, 203.0.113.8', 'rotating_99')).statusCode, 401);
  });
});

describe('TRUST_PROXY as a list of proxy addresses', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ trustProxy: loadConfig({ TRUST_PROXY: '10.0.0.5, 127.0.0.0/8' }).trustProxy });
  });
  after(() => t.close());

  test('X-Forwarded-For is believed only from a listed proxy; a direct client is its socket address', async () => {
    // Direct client 192.0.2.1 claims 20 different addresses: all count for 192.0.2.1.
    for (let i = 0; i < 20; i++) assert.equal((await signIn(t, '192.0.2.1', `198.51.100.${i}`, `direct_${i}`)).statusCode, 401);
    assert.equal((await signIn(t, '192.0.2.1', '198.51.100.200', 'direct_x')).statusCode, 429);
    // Through the listed proxies (127.0.0.1 → 10.0.0.5) the client is 203.0.113.9, not locked.
    assert.equal((await signIn(t, '127.0.0.1', '203.0.113.9, 10.0.0.5', 'direct_x')).statusCode, 401);
  });
});
