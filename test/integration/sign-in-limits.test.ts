// Sign-in guessing limits through the real route (inject() with chosen client
// addresses, a real SQLite file, real argon2): exact counts under concurrency,
// and no way for a stranger to lock the owner out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestApp, startTestApp } from '../support/test-app.js';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => {
  await t.close();
});

const HOST = 'hushcast.test';

function signIn(ip: string, username: string, password: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/signin',
    remoteAddress: ip,
    headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ username, password }),
  });
}

function signUp(ip: string, username: string, password: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    remoteAddress: ip,
    headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ username, password }),
  });
}

function countStatuses(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

describe('under concurrency the limits are exact', () => {
  test('40 parallel wrong passwords for one username from one address: exactly 5 are checked (401), 35 are refused (429)', async () => {
    assert.equal((await signUp('10.1.0.1', 'race_user', 'race-user-password')).statusCode, 201);
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => signIn('10.1.0.2', 'race_user', `wrong-${i}-password`)));
    assert.deepEqual(countStatuses(results.map((r) => r.statusCode)), { 401: 5, 429: 35 });
  });

  test('60 parallel wrong sign-ins from one address for 60 usernames: exactly 20 are checked (401), 40 are refused (429)', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => signIn('10.2.0.1', `nobody_${i}`, 'wrong-password')));
    assert.deepEqual(countStatuses(results.map((r) => r.statusCode)), { 401: 20, 429: 40 });
  });
});

describe('no lock-out denial of service', () => {
  test('5 wrong passwords from a stranger’s address do not stop the owner signing in from another address', async () => {
    assert.equal((await signUp('10.3.0.1', 'victim', 'victims-password')).statusCode, 201);
    for (let i = 0; i < 5; i++) assert.equal((await signIn('10.3.0.66', 'victim', `guess-${i}-pw`)).statusCode, 401);
    assert.equal((await signIn('10.3.0.66', 'victim', 'victims-password')).statusCode, 429, 'the guessing address itself is locked');
    const owner = await signIn('10.3.0.2', 'victim', 'victims-password');
    assert.equal(owner.statusCode, 200, owner.body);
  });

  test('guessing from many addresses slows the username down for new addresses, but an address the owner signed in from gets through', async () => {
    assert.equal((await signUp('10.4.0.1', 'popular', 'popular-password')).statusCode, 201);
    assert.equal((await signIn('10.4.0.1', 'popular', 'popular-password')).statusCode, 200);
    // 10 addresses × 1 guess: no pair and no address reaches its own limit.
    for (let i = 0; i < 10; i++) assert.equal((await signIn(`10.4.1.${i}`, 'popular', 'guess-password')).statusCode, 401);
    const stranger = await signIn('10.4.2.1', 'popular', 'guess-password');
    assert.equal(stranger.statusCode, 429);
    assert.match(JSON.parse(stranger.body).error.message, /for this username \(someone is guessing its password\)/);
    assert.ok(Number(stranger.headers['retry-after']) >= 1);
    assert.equal((await signIn('10.4.0.1', 'popular', 'popular-password')).statusCode, 200);
  });
});
