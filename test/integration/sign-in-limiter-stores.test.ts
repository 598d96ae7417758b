// The sign-in limiter's rules hold the same in every store: in memory, and in
// a real redis-server (several nodes share the counts there). Clock injected.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisSignInAttemptStore } from '../../src/control/redis-sign-in-attempt-store.js';
import { type Lockout, MemorySignInAttemptStore, type SignInAttemptStore, SignInLimiter } from '../../src/control/sign-in-limiter.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';

const limits = {
  maxFailuresPerUsernameAndIp: 5,
  maxFailuresPerIp: 20,
  usernameSlowdownAfter: 4,
  usernameSlowdownBaseMs: 1000,
  usernameSlowdownMaxMs: 8000,
  windowMs: 60_000,
  trustedAddressMs: 3_600_000,
};

let redis: RunningRedis;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis.stop();
});

const stores: Array<[string, () => SignInAttemptStore]> = [
  ['memory', () => new MemorySignInAttemptStore(limits)],
  ['redis', () => new RedisSignInAttemptStore(redis.url)],
];

for (const [name, makeStore] of stores) {
  describe(`${name} store`, () => {
    test('40 parallel attempts for one username from one address: exactly 5 are admitted; two limiters on one store count together', async () => {
      const store = makeStore();
      const now = 1_000_000;
      // The username slow-down (from the 4th failure here) is kept out of this test's way.
      const raceLimits = { ...limits, usernameSlowdownAfter: 100 };
      const nodeA = new SignInLimiter(raceLimits, () => now, store);
      const nodeB = new SignInLimiter(raceLimits, () => now, store);
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? nodeA : nodeB).admit(`1.1.1.1`, `${name}_race`)));
      assert.equal(results.filter((r) => r.ok).length, 5);
      const refused = results.filter((r) => !r.ok).map((r) => (r.ok ? null : r.lockout));
      assert.deepEqual(new Set(refused.map((l) => l!.scope)), new Set(['username-ip']));
      assert.ok((await nodeA.admit('1.1.1.2', `${name}_race`)).ok, 'another address is not locked out');
      await store.close();
    });

    test('60 parallel attempts from one address over 60 usernames: exactly 20 are admitted', async () => {
      const store = makeStore();
      const l = new SignInLimiter(limits, () => 2_000_000, store);
      const results = await Promise.all(Array.from({ length: 60 }, (_, i) => l.admit('2.2.2.2', `${name}_spray_${i}`)));
      assert.equal(results.filter((r) => r.ok).length, 20);
      await store.close();
    });

    test('a username slows down exponentially for untrusted addresses, capped; the address that signed in skips it; a success takes its failure back', async () => {
      const store = makeStore();
      let now = 3_000_000;
      const l = new SignInLimiter(limits, () => now, store);
      const user = `${name}_slow`;
      const owner = await l.admit('7.7.7.7', user);
      assert.ok(owner.ok);
      await l.succeeded(owner.attempt);
      for (let i = 0; i < 4; i++) assert.ok((await l.admit(`8.8.8.${i}`, user)).ok);
      for (const waitS of [1, 2, 4, 8, 8]) {
        const r = await l.admit('6.6.6.6', user);
        assert.deepEqual(r.ok ? null : r.lockout, { scope: 'username', retryAfterSeconds: waitS } satisfies Lockout);
        const trusted = await l.admit('7.7.7.7', user);
        assert.ok(trusted.ok, 'the address that signed in is admitted');
        await l.succeeded(trusted.attempt);
        now += waitS * 1000;
        assert.ok((await l.admit(`5.5.5.${waitS}`, user)).ok);
      }
      await store.close();
    });
  });
}
