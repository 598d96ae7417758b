// Accounts over a real port: sign-up, sign-in, sign-out, sessions, lockout,
// CSRF and bad input — each refusal leaves the database unchanged.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signSessionId } from '../../src/control/session-cookie.js';
import { Client, type TestApp, snapshot, startTestApp } from '../support/test-app.js';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t.close();
});

describe('sign-up', () => {
  test('creates a lower-case user, an argon2id hash, a server-side session and an HttpOnly SameSite=Lax cookie', async () => {
    const c = new Client(t.base);
    const r = await c.post('/api/auth/signup', { username: 'Alice_1', password: 'amber-lantern-42' });
    assert.equal(r.status, 201);
    assert.equal(r.body.user.username, 'alice_1');
    assert.equal(typeof r.body.message, 'string');
    const cookie = r.headers.get('set-cookie')!;
    assert.match(cookie, /^hc_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP: no Secure flag');
    const row = await t.db.selectFrom('users').selectAll().where('username', '=', 'alice_1').executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^\$argon2id\$/);
    assert.equal((await t.db.selectFrom('sessions').selectAll().where('user_id', '=', row.id).execute()).length, 1);
    assert.deepEqual((await c.get('/api/auth/me')).body, { user: { id: row.id, username: 'alice_1' } });
  });

  test('a username taken in any letter case is refused with 409 USERNAME_TAKEN and nothing changes', async () => {
    const before = await snapshot(t.db);
    const r = await new Client(t.base).post('/api/auth/signup', { username: 'ALICE_1', password: 'amber-lantern-42' });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'USERNAME_TAKEN');
    assert.deepEqual(await snapshot(t.db), before);
  });

  for (const [what, body, field] of [
    ['a too short username', { username: 'ab', password: 'amber-lantern-42' }, 'username'],
    ['a too long username', { username: 'a'.repeat(31), password: 'amber-lantern-42' }, 'username'],
    ['a username with other characters', { username: 'ann-marie', password: 'amber-lantern-42' }, 'username'],
    ['a 7-character password', { username: 'shortpw', password: '1234567' }, 'password'],
    ['a 257-character password', { username: 'longpw', password: 'x'.repeat(257) }, 'password'],
    ['a missing password', { username: 'nopw' }, 'password'],
    ['a non-string username', { username: 42, password: 'amber-lantern-42' }, 'username'],
    ['an all-whitespace password', { username: 'spacepw', password: ' '.repeat(8) }, 'password'],
    ['a password of tabs and newlines', { username: 'tabpw', password: '\t\n \t\n \t\n' }, 'password'],
    ['one of the most common passwords', { username: 'commonpw', password: 'password123' }, 'password'],
    ['a common password in other letter case', { username: 'commonpw2', password: 'QWERTYUIOP' }, 'password'],
  ] as const) {
    test(`${what} is refused with 400 VALIDATION naming the field, and nothing changes`, async () => {
      const before = await snapshot(t.db);
      const r = await new Client(t.base).post('/api/auth/signup', body);
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'VALIDATION');
      assert.match(r.body.error.message, new RegExp(`^${field}:`));
      assert.deepEqual(await snapshot(t.db), before);
    });
  }

  test('usernames of exactly 3 and 30 characters and passwords of 8 and 256 are accepted', async () => {
    await new Client(t.base).post('/api/auth/signup', { username: 'abc', password: 'q8w7e6r5' }).then((r) => assert.equal(r.status, 201));
    await new Client(t.base).post('/api/auth/signup', { username: 'b'.repeat(30), password: 'y'.repeat(256) }).then((r) => assert.equal(r.status, 201));
  });
});

describe('sign-in and sign-out', () => {
  test('the right password signs in whatever the username case; a wrong one is 401 BAD_CREDENTIALS with no session', async () => {
    await new Client(t.base).signup('bob', 'bobspassword');
    const sessionsBefore = (await snapshot(t.db)).sessions;
    const wrong = await new Client(t.base).post('/api/auth/signin', { username: 'bob', password: 'nope-nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'BAD_CREDENTIALS');
    const unknown = await new Client(t.base).post('/api/auth/signin', { username: 'nobody_here', password: 'nope-nope' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.error.message, wrong.body.error.message, 'the message does not reveal whether the user exists');
    assert.deepEqual((await snapshot(t.db)).sessions, sessionsBefore);
    const c = new Client(t.base);
    const ok = await c.post('/api/auth/signin', { username: 'BOB', password: 'bobspassword' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.username, 'bob');
    assert.equal((await c.get('/api/auth/me')).status, 200);
  });

  test('sign-out answers 204, deletes the session row and clears the cookie; the old cookie is then refused', async () => {
    const c = new Client(t.base);
    await c.signup('carol');
    const oldCookie = c.cookie;
    const n = (await snapshot(t.db)).sessions.length;
    const r = await c.post('/api/auth/signout');
    assert.equal(r.status, 204);
    assert.match(r.headers.get('set-cookie')!, /hc_session=;/);
    assert.equal((await snapshot(t.db)).sessions.length, n - 1);
    const replay = new Client(t.base);
    replay.cookie = oldCookie;
    const me = await replay.get('/api/auth/me');
    assert.equal(me.status, 401);
    assert.equal(me.body.error.code, 'NOT_SIGNED_IN');
  });

  test('no cookie, a forged cookie and a validly signed unknown session id are all 401 NOT_SIGNED_IN', async () => {
    const c = new Client(t.base);
    assert.equal((await c.get('/api/auth/me')).body.error.code, 'NOT_SIGNED_IN');
    c.cookie = 'hc_session=forged.value';
    assert.equal((await c.get('/api/auth/me')).status, 401);
    const real = new Client(t.base);
    await real.signup('dave');
    const [, value] = real.cookie.split('=');
    c.cookie = `hc_session=${value!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'))}`;
    assert.equal((await c.get('/api/auth/me')).status, 401, 'a tampered id fails the signature check');
    c.cookie = `hc_session=${signSessionId('wrong-secret-wrong-secret', 'x'.repeat(43))}`;
    assert.equal((await c.get('/api/auth/me')).status, 401);
  });

  test('an expired session is refused', async () => {
    const c = new Client(t.base);
    const r = await c.signup('erin');
    await t.db.updateTable('sessions').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('user_id', '=', r.body.user.id).execute();
    assert.equal((await c.get('/api/auth/me')).status, 401);
  });
});

describe('sign-in lockout', () => {
  test('after 5 failures for one username from one address the 6th attempt from there is 429 TOO_MANY_ATTEMPTS with Retry-After and a retry time, even with the right password', async () => {
    await new Client(t.base).signup('frank', 'frankspassword');
    const c = new Client(t.base);
    for (let i = 0; i < 5; i++) {
      assert.equal((await c.post('/api/auth/signin', { username: 'frank', password: `wrong-${i}-pw` })).status, 401);
    }
    const before = await snapshot(t.db);
    const r = await c.post('/api/auth/signin', { username: 'FRANK', password: 'frankspassword' });
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, 'TOO_MANY_ATTEMPTS');
    assert.match(r.body.error.message, /for this username from your network address\. Try again in \d+ minutes? \(at \d\d:\d\d UTC\)\./);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 15 * 60, `Retry-After ${retry}`);
    assert.deepEqual(await snapshot(t.db), before);
  });

  test('after 20 failures from one IP any username is locked for that IP', async () => {
    const c = new Client(t.base);
    // Usernames never locked individually: 4 failures each.
    for (let i = 0; i < 20; i++) {
      await c.post('/api/auth/signin', { username: `ipguess${i % 5}`, password: 'wrong-password' });
    }
    const r = await c.post('/api/auth/signin', { username: 'bob', password: 'bobspassword' });
    assert.equal(r.status, 429);
    assert.match(r.body.error.message, /from your network address/);
    assert.ok(Number(r.headers.get('retry-after')) > 0);
  });
});

describe('bad input and CSRF', () => {
  test('malformed JSON is 400 BAD_JSON and nothing changes', async () => {
    const before = await snapshot(t.db);
    const r = await new Client(t.base).request('POST', '/api/auth/signup', '{"username": "zed",', {});
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'BAD_JSON');
    assert.deepEqual(await snapshot(t.db), before);
  });

  test('a body over 64 KiB is 413 BODY_TOO_LARGE and nothing changes', async () => {
    const before = await snapshot(t.db);
    const r = await new Client(t.base).post('/api/auth/signup', { username: 'huge', password: 'x'.repeat(70 * 1024) });
    assert.equal(r.status, 413);
    assert.equal(r.body.error.code, 'BODY_TOO_LARGE');
    assert.deepEqual(await snapshot(t.db), before);
  });

  test('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const r = await new Client(t.base).request('POST', '/api/auth/signup', 'username=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(r.status, 415);
    assert.equal(r.body.error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('a POST from another origin, or without Origin and Referer, is 403 CSRF_ORIGIN and nothing changes', async () => {
    const before = await snapshot(t.db);
    for (const origin of ['http://evil.example', 'null', null]) {
      const c = new Client(t.base, origin);
      const r = await c.post('/api/auth/signup', { username: 'csrfvictim', password: 'amber-lantern-42' });
      assert.equal(r.status, 403, `origin ${origin}`);
      assert.equal(r.body.error.code, 'CSRF_ORIGIN');
    }
    const signedIn = new Client(t.base);
    await signedIn.signup('csrf_owner');
    const snap = await snapshot(t.db);
    signedIn.origin = 'http://evil.example';
    assert.equal((await signedIn.post('/api/auth/signout')).status, 403);
    assert.deepEqual(await snapshot(t.db), snap);
    assert.ok(before.users.length < snap.users.length);
  });

  test('a same-origin Referer is accepted when Origin is absent', async () => {
    const c = new Client(t.base, null);
    const r = await c.request('POST', '/api/auth/signup', { username: 'refonly', password: 'amber-lantern-42' }, { referer: `${t.base}/signup` });
    assert.equal(r.status, 201);
  });

  test('an unknown /api path is 404 NOT_FOUND in the error shape', async () => {
    const r = await new Client(t.base).get('/api/nope');
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'NOT_FOUND');
  });
});

test('GET /api/health reports the configured engine when no media plane runs', async () => {
  const r = await new Client(t.base).get('/api/health');
  assert.equal(r.status, 200);
  assert.equal(r.body.ok, true);
  assert.deepEqual(r.body.denoise, { engine: 'none', fallback_reason: null });
  assert.deepEqual(r.body.database, { kind: 'sqlite', reachable: true });
  assert.equal(r.body.redis, null, 'a standalone node has no Redis to check');
  assert.equal(r.body.node.role, 'standalone');
  assert.equal(r.body.node.id, t.config.nodeId);
  assert.equal(r.body.node.streams, 0);
});

test('an origin listed in ALLOWED_ORIGINS may POST', async () => {
  const other = await startTestApp({ allowedOrigins: ['https://hushcast.example'] });
  try {
    const r = await new Client(other.base, 'https://hushcast.example').post('/api/auth/signup', { username: 'allowed', password: 'amber-lantern-42' });
    assert.equal(r.status, 201);
  } finally {
    await other.close();
  }
});
