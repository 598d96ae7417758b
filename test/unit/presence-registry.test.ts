import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CloseChain } from '../../src/control/close-chain.js';
import { Presence } from '../../src/control/presence.js';

test('a user is online while any socket is open; offline listeners fire once, on the last close', async () => {
  const p = new Presence(() => assert.fail('no listener throws here'));
  const offline: number[] = [];
  const online: number[] = [];
  p.onUserOffline((id) => offline.push(id));
  p.onUserOnline((id) => online.push(id));
  assert.equal(await p.socketOpened(7), true);
  assert.equal(await p.socketOpened(7), false);
  assert.equal(p.connections(7), 2);
  assert.equal(await p.socketClosed(7), false);
  assert.equal(await p.isOnline(7), true);
  assert.equal(await p.socketClosed(7), true);
  assert.equal(await p.isOnline(7), false);
  assert.equal(await p.socketClosed(7), false, 'an extra close is ignored');
  assert.deepEqual([online, offline], [[7], [7]]);
});

test('users lost with a dead node go offline: lost listeners hear them together, offline listeners one by one', () => {
  const p = new Presence(() => assert.fail('no listener throws here'));
  const lost: number[][] = [];
  const offline: number[] = [];
  p.onUsersLost((ids) => lost.push(ids));
  p.onUserOffline((id) => offline.push(id));
  p.usersLost([3, 4]);
  p.usersLost([]);
  assert.deepEqual(lost, [[3, 4]]);
  assert.deepEqual(offline, [3, 4]);
});

test('a throwing offline listener is reported and does not stop the others', async () => {
  const reported: unknown[] = [];
  const p = new Presence((err) => reported.push(err));
  const seen: number[] = [];
  p.onUserOffline(() => {
    throw new Error('faulty listener');
  });
  const off = p.onUserOffline((id) => seen.push(id));
  await p.socketOpened(1);
  await p.socketClosed(1);
  assert.deepEqual(seen, [1]);
  assert.equal(reported.length, 1);
  off();
  await p.socketOpened(1);
  await p.socketClosed(1);
  assert.deepEqual(seen, [1], 'a removed listener is not called');
});

test('the close chain runs steps last-added-first, all of them even after a failure, and only once', async () => {
  const chain = new CloseChain();
  const order: string[] = [];
  chain.add('db', () => {
    order.push('db');
  });
  chain.add('bus', () => {
    throw new Error('bus failed');
  });
  chain.add('media', async () => {
    order.push('media');
  });
  const logged: string[] = [];
  await assert.rejects(chain.run((m) => logged.push(m)), /shutdown steps failed: bus/);
  await assert.rejects(chain.run(() => undefined));
  assert.deepEqual(order, ['media', 'db']);
  assert.deepEqual(logged, ['closing bus failed']);
  assert.throws(() => chain.add('late', () => undefined), /already closing/);
});
