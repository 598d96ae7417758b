import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignInLimiter, retryMessage } from '../../src/control/sign-in-limiter.js';

const limits = { maxFailuresPerUsername: 3, maxFailuresPerIp: 5, windowMs: 60_000 };

test('a username is locked after its maximum of failures until the oldest one leaves the window', () => {
  let now = 1_000_000;
  const l = new SignInLimiter(limits, () => now);
  for (let i = 0; i < 3; i++) {
    assert.equal(l.check('1.1.1.1', 'ann'), null);
    l.recordFailure('1.1.1.1', 'ann');
    now += 1000;
  }
  assert.deepEqual(l.check('9.9.9.9', 'ann'), { scope: 'username', retryAfterSeconds: 57 });
  assert.equal(l.check('1.1.1.1', 'bob'), null, 'other usernames from the same IP are not locked yet');
  now = 1_000_000 + 60_001;
  assert.equal(l.check('1.1.1.1', 'ann'), null);
  l.close();
});

test('an IP is locked after its maximum of failures across usernames', () => {
  const now = 5_000_000;
  const l = new SignInLimiter(limits, () => now);
  for (const u of ['a1', 'a2', 'a3', 'a4', 'a5']) l.recordFailure('2.2.2.2', u);
  assert.equal(l.check('2.2.2.2', 'fresh')?.scope, 'ip');
  assert.equal(l.check('3.3.3.3', 'fresh'), null);
  l.close();
});

test('a successful sign-in clears that username’s failures', () => {
  const l = new SignInLimiter(limits, () => 0);
  l.recordFailure('4.4.4.4', 'ann');
  l.recordFailure('4.4.4.4', 'ann');
  l.recordSuccess('ann');
  l.recordFailure('4.4.4.4', 'ann');
  l.recordFailure('4.4.4.4', 'ann');
  assert.equal(l.check('4.4.4.4', 'ann'), null);
  l.close();
});

test('the lockout message says who is locked and when to retry', () => {
  const at = Date.parse('2026-01-01T10:00:00Z');
  assert.equal(
    retryMessage({ scope: 'username', retryAfterSeconds: 150 }, at),
    'Too many failed sign-in attempts for this username. Try again in 3 minutes (at 10:02 UTC).',
  );
  assert.match(retryMessage({ scope: 'ip', retryAfterSeconds: 1 }, at), /from your network address\. Try again in 1 second /);
});
