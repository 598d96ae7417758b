// The Origin check compares whole origins (scheme, host, port), and with
// PUBLIC_URL set only its host name is served (DNS rebinding).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Client, type TestApp, startTestApp } from '../support/test-app.js';

describe('without PUBLIC_URL', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  test('an Origin with the right host but another scheme is 403 CSRF_ORIGIN on the plain-HTTP server', async () => {
    const https = t.base.replace(/^http:/, 'https:');
    const r = await new Client(t.base, https).post('/api/auth/signup', { username: 'scheme_mix', password: 'amber-lantern-42' });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'CSRF_ORIGIN');
  });

  test('an Origin with the right host name but another port is 403 CSRF_ORIGIN', async () => {
    const r = await new Client(t.base, 'http://127.0.0.1:1').post('/api/auth/signup', { username: 'port_mix', password: 'amber-lantern-42' });
    assert.equal(r.status, 403);
  });

  test('a WebSocket whose Origin has another scheme is closed with 4403', async () => {
    const c = new Client(t.base);
    await c.signup('ws_scheme');
    const ws = new WebSocket(t.base.replace(/^http/, 'ws') + '/ws', { headers: { cookie: c.cookie, origin: t.base.replace(/^http:/, 'https:') } });
    // Whichever comes first: the close, or the server's hello on an accepted socket.
    const outcome = await new Promise<string>((resolve) => {
      ws.once('close', (code) => resolve(`closed ${code}`));
      ws.once('message', (m) => resolve(`accepted: ${m.toString()}`));
    });
    ws.terminate();
    assert.equal(outcome, 'closed 4403');
  });
});

describe('with PUBLIC_URL=http://hushcast.test', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ publicUrl: new URL('http://hushcast.test') });
  });
  after(() => t.close());

  const req = (host: string, origin: string | undefined, method: 'GET' | 'POST', url: string, body?: unknown) =>
    t.app.inject({
      method,
      url,
      headers: { host, ...(origin ? { origin } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { payload: JSON.stringify(body) } : {}),
    });

  test('a request for another Host with a matching Origin (DNS rebinding) is 421 MISDIRECTED_HOST and creates nothing', async () => {
    const r = await req('evil.example', 'http://evil.example', 'POST', '/api/auth/signup', { username: 'rebound', password: 'amber-lantern-42' });
    assert.equal(r.statusCode, 421);
    assert.equal(JSON.parse(r.body).error.code, 'MISDIRECTED_HOST');
    assert.equal(await t.db.selectFrom('users').select('id').where('username', '=', 'rebound').executeTakeFirst(), undefined);
    assert.equal((await req('evil.example', undefined, 'GET', '/api/auth/me')).statusCode, 421);
    assert.equal((await req('127.0.0.1', undefined, 'GET', '/api/auth/me')).statusCode, 421);
  });

  test('its own host name is served, with its default port written or not; /api/health answers any Host', async () => {
    const r = await req('hushcast.test', 'http://hushcast.test', 'POST', '/api/auth/signup', { username: 'own_host', password: 'amber-lantern-42' });
    assert.equal(r.statusCode, 201);
    assert.equal((await req('hushcast.test:80', undefined, 'GET', '/api/auth/me')).statusCode, 401);
    assert.equal((await req('10.0.0.9:8000', undefined, 'GET', '/api/health')).statusCode, 200);
  });

  test('the Origin must be PUBLIC_URL’s origin', async () => {
    const r = await req('hushcast.test', 'https://hushcast.test', 'POST', '/api/auth/signup', { username: 'tls_origin', password: 'amber-lantern-42' });
    assert.equal(r.statusCode, 403);
  });
});
