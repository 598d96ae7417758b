// One contract, two buses: every behaviour the control plane relies on is
// checked against the in-memory bus and against a real redis-server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Bus } from '../../src/bus/bus.js';
import { MemoryBus } from '../../src/bus/memory.js';
import { RedisBus } from '../../src/bus/redis.js';
import { type RunningRedis, startRedisServer } from '../support/redis-server.js';

/** Collects messages and lets a test wait until n have arrived. */
function collector() {
  const got: string[] = [];
  let waiters: Array<() => void> = [];
  const handler = (m: string) => {
    got.push(m);
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  async function until(n: number, timeoutMs = 5000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${got.length}: ${JSON.stringify(got)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return got;
  }
  return { got, handler, until };
}

/** Lets any in-flight delivery land, so "nothing arrived" is meaningful (a round trip through the same bus). */
async function settle(bus: Bus): Promise<void> {
  const c = collector();
  const off = await bus.subscribe('settle', c.handler);
  await bus.publish('settle', 'x');
  await c.until(1);
  await off();
}

function contract(name: string, make: () => Promise<Bus>) {
  describe(`${name} bus contract`, () => {
    let bus: Bus;
    before(async () => {
      bus = await make();
    });
    after(async () => {
      await bus.close();
    });

    test('a message published after subscribe resolves reaches the subscriber', async () => {
      const c = collector();
      const off = await bus.subscribe('t1', c.handler);
      await bus.publish('t1', '{"a":1}');
      assert.deepEqual(await c.until(1), ['{"a":1}']);
      await off();
    });

    test('messages on one topic arrive in publish order', async () => {
      const c = collector();
      const off = await bus.subscribe('order', c.handler);
      for (let i = 0; i < 50; i++) await bus.publish('order', String(i));
      assert.deepEqual(await c.until(50), Array.from({ length: 50 }, (_, i) => String(i)));
      await off();
    });

    test('every subscriber of a topic gets each message, and other topics get nothing', async () => {
      const a = collector();
      const b = collector();
      const other = collector();
      const offs = [await bus.subscribe('shared', a.handler), await bus.subscribe('shared', b.handler), await bus.subscribe('other', other.handler)];
      await bus.publish('shared', 'hi');
      await a.until(1);
      await b.until(1);
      await settle(bus);
      assert.deepEqual(other.got, []);
      for (const off of offs) await off();
    });

    test('after unsubscribe a subscriber receives nothing while the remaining one still does', async () => {
      const a = collector();
      const b = collector();
      const offA = await bus.subscribe('unsub', a.handler);
      const offB = await bus.subscribe('unsub', b.handler);
      await offA();
      await offA(); // twice is harmless
      await bus.publish('unsub', 'm');
      await b.until(1);
      await settle(bus);
      assert.deepEqual(a.got, []);
      await offB();
      await bus.publish('unsub', 'n');
      await settle(bus);
      assert.deepEqual(b.got, ['m']);
    });

    test('the same handler subscribed twice is two subscriptions', async () => {
      const c = collector();
      const off1 = await bus.subscribe('twice', c.handler);
      const off2 = await bus.subscribe('twice', c.handler);
      await bus.publish('twice', 'x');
      assert.deepEqual(await c.until(2), ['x', 'x']);
      await off1();
      await bus.publish('twice', 'y');
      await c.until(3);
      await settle(bus);
      assert.deepEqual(c.got, ['x', 'x', 'y']);
      await off2();
    });

    test('a subscriber that throws does not keep the message from the others', async () => {
      const c = collector();
      const off1 = await bus.subscribe('faulty', () => {
        throw new Error('boom (expected by the test)');
      });
      const off2 = await bus.subscribe('faulty', c.handler);
      await bus.publish('faulty', 'still');
      assert.deepEqual(await c.until(1), ['still']);
      await off1();
      await off2();
    });

    test('publishing to a topic nobody listens to succeeds', async () => {
      await bus.publish('nobody', 'x');
    });

    test('unsubscribing and re-subscribing at once leaves the topic subscribed', async () => {
      const c = collector();
      const off = await bus.subscribe('flip', () => undefined);
      const unsub = off();
      const resub = bus.subscribe('flip', c.handler);
      await unsub;
      const off2 = await resub;
      await bus.publish('flip', 'after');
      assert.deepEqual(await c.until(1), ['after']);
      await off2();
    });
  });
}

const quiet = () => undefined;
contract('memory', async () => new MemoryBus(quiet));

let redis: RunningRedis | undefined;
contract('redis', async () => {
  redis = await startRedisServer();
  return new RedisBus(redis.url, quiet);
});
after(async () => {
  await redis?.stop();
});

test('a closed bus refuses to publish with a clear error', async () => {
  const bus = new MemoryBus(quiet);
  await bus.close();
  await bus.close();
  await assert.rejects(bus.publish('t', 'x'), /bus is closed/);
});
