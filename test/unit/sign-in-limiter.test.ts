import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Admission, type Lockout, SignInLimiter, retryMessage } from '../../src/control/sign-in-limiter.js';

const limits = {
  maxFailuresPerUsernameAndIp: 3,
  maxFailuresPerIp: 5,
  usernameSlowdownAfter: 4,
  usernameSlowdownBaseMs: 1000,
  usernameSlowdownMaxMs: 8000,
  windowMs: 60_000,
  trustedAddressMs: 3_600_000,
};

function lockout(a: Admission): Lockout | null {
  return a.ok ? null : a.lockout;
}

test('a username is locked for one address after its maximum of failures there, until the oldest leaves the window', async () => {
  let now = 1_000_000;
  const l = new SignInLimiter(limits, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(lockout(await l.admit('1.1.1.1', 'ann')), null);
    now += 1000;
  }
  assert.deepEqual(lockout(await l.admit('1.1.1.1', 'ann')), { scope: 'username-ip', retryAfterSeconds: 57 });
  assert.equal(lockout(await l.admit('9.9.9.9', 'ann')), null, 'another address is not locked out of the username');
  assert.equal(lockout(await l.admit('1.1.1.1', 'bob')), null, 'other usernames from the same address are not locked yet');
  now = 1_000_000 + 60_001;
  assert.equal(lockout(await l.admit('1.1.1.1', 'ann')), null);
  await l.close();
});

test('an address is locked after its maximum of failures across usernames', async () => {
  const now = 5_000_000;
  const l = new SignInLimiter(limits, () => now);
  for (const u of ['a1', 'a2', 'a3', 'a4', 'a5']) assert.equal(lockout(await l.admit('2.2.2.2', u)), null);
  assert.equal(lockout(await l.admit('2.2.2.2', 'fresh'))?.scope, 'ip');
  assert.equal(lockout(await l.admit('3.3.3.3', 'fresh')), null);
  await l.close();
});

test('past the threshold a username slows down exponentially for untrusted addresses, capped, and the address that signed in skips it', async () => {
  let now = 0;
  const l = new SignInLimiter(limits, () => now);
  const owner = await l.admit('7.7.7.7', 'cat');
  assert.ok(owner.ok);
  await l.succeeded(owner.attempt);
  for (let i = 0; i < 4; i++) assert.equal(lockout(await l.admit(`8.8.8.${i}`, 'cat')), null);
  // 4 failures: the next waits 1 s after the latest, then 2 s, 4 s, 8 s, 8 s (cap).
  for (const waitS of [1, 2, 4, 8, 8]) {
    assert.deepEqual(lockout(await l.admit('6.6.6.6', 'cat')), { scope: 'username', retryAfterSeconds: waitS });
    const trusted = await l.admit('7.7.7.7', 'cat');
    assert.ok(trusted.ok, 'the address that signed in is admitted');
    await l.succeeded(trusted.attempt);
    now += waitS * 1000;
    assert.equal(lockout(await l.admit(`5.5.5.${waitS}`, 'cat')), null);
  }
  await l.close();
});

test('a success takes back its own counted attempt and clears that address’s failures for the username', async () => {
  const l = new SignInLimiter(limits, () => 0);
  await l.admit('4.4.4.4', 'ann');
  await l.admit('4.4.4.4', 'ann');
  const ok = await l.admit('4.4.4.4', 'ann');
  assert.ok(ok.ok);
  await l.succeeded(ok.attempt);
  await l.admit('4.4.4.4', 'ann');
  await l.admit('4.4.4.4', 'ann');
  assert.equal(lockout(await l.admit('4.4.4.4', 'ann')), null);
  await l.close();
});

test('the lockout message says who is locked and when to retry', () => {
  const at = Date.parse('2026-01-01T10:00:00Z');
  assert.equal(
    retryMessage({ scope: 'username-ip', retryAfterSeconds: 150 }, at),
    'Too many failed sign-in attempts for this username from your network address. Try again in 3 minutes (at 10:02 UTC).',
  );
  assert.match(retryMessage({ scope: 'ip', retryAfterSeconds: 1 }, at), /from your network address\. Try again in 1 second /);
});
