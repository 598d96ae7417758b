// Sign-ups per client address through the real route (inject() with chosen
// addresses, a real SQLite file): exact under concurrency.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestApp, startTestApp } from '../support/test-app.js';

let t: TestApp;
before(async () => {
  t = await startTestApp({ signupsPerIpPerHour: 10 });
});
after(async () => {
  await t.close();
});

function signUp(ip: string, username: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    remoteAddress: ip,
    headers: { host: 'hushcast.test', origin: 'http://hushcast.test', 'content-type': 'application/json' },
    payload: JSON.stringify({ username, password: 'amber-lantern-42' }),
  });
}

test('40 parallel sign-ups from one address: exactly 10 accounts are created, 30 get 429 TOO_MANY_SIGNUPS with Retry-After; another address still signs up', async () => {
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => signUp('10.7.0.1', `spam_${i}`)));
  const created = results.filter((r) => r.statusCode === 201);
  const refused = results.filter((r) => r.statusCode === 429);
  assert.equal(created.length, 10);
  assert.equal(refused.length, 30);
  for (const r of refused) {
    assert.equal(JSON.parse(r.body).error.code, 'TOO_MANY_SIGNUPS');
    const retry = Number(r.headers['retry-after']);
    assert.ok(retry > 0 && retry <= 3600, `Retry-After ${retry}`);
  }
  const users = await t.db.selectFrom('users').select('username').where('username', 'like', 'spam_%').execute();
  assert.equal(users.length, 10);
  assert.equal((await signUp('10.7.0.2', 'not_spam')).statusCode, 201);
});
