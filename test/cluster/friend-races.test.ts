// Friend-request races with the requests spread over two nodes that share one
// PostgreSQL database (each node a full control plane with its own pool).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, startTestApp, type TestApp } from '../support/test-app.js';
import { postgresStore } from '../support/stores.js';

let a: TestApp;
let b: TestApp;
before(async () => {
  const databaseUrl = await postgresStore.newDatabaseUrl();
  [a, b] = await Promise.all([startTestApp({ databaseUrl }), startTestApp({ databaseUrl })]);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

async function pairOfUsers(tag: string): Promise<[Client, Client, string, string]> {
  const x = new Client(a.base);
  const y = new Client(b.base);
  await x.signup(`${tag}_x`);
  await y.signup(`${tag}_y`);
  return [x, y, `${tag}_x`, `${tag}_y`];
}

test('two users asking each other at the same moment through different nodes become friends once, with no request left over', async () => {
  const pairs = await Promise.all(Array.from({ length: 16 }, (_, i) => pairOfUsers(`mut${i}`)));
  await Promise.all(pairs.flatMap(([x, y, xn, yn]) => [x.post('/api/friends/requests', { username: yn }), y.post('/api/friends/requests', { username: xn })]));
  const rows = await a.db.selectFrom('friendships').selectAll().execute();
  const requests = await a.db.selectFrom('friend_requests').selectAll().execute();
  assert.equal(rows.length, 16, 'one friendship per pair');
  assert.equal(requests.length, 0, 'no pending request left');
  for (const [x, , , yn] of pairs) {
    const list = (await x.get('/api/friends')).body;
    assert.deepEqual(list.friends.map((f: any) => f.username), [yn]);
  }
});

test('accepting and cancelling the same request at once through different nodes ends in exactly one of the two outcomes', async () => {
  const pairs = await Promise.all(Array.from({ length: 16 }, (_, i) => pairOfUsers(`acc${i}`)));
  const outcomes = await Promise.all(
    pairs.map(async ([x, y, , yn]) => {
      const req = await x.post('/api/friends/requests', { username: yn });
      assert.equal(req.status, 201);
      const id = req.body.request.id;
      const [cancel, accept] = await Promise.all([x.delete(`/api/friends/requests/${id}`), y.post(`/api/friends/requests/${id}/accept`)]);
      return { cancel: cancel.status, accept: accept.status };
    }),
  );
  const friendships = await a.db.selectFrom('friendships').selectAll().where('user_low', 'in', a.db.selectFrom('users').select('id').where('username', 'like', 'acc%')).execute();
  const accepted = outcomes.filter((o) => o.accept === 200).length;
  for (const o of outcomes) {
    assert.ok((o.accept === 200) !== (o.cancel === 200), `exactly one wins: ${JSON.stringify(o)}`);
  }
  assert.equal(friendships.length, accepted, 'a friendship exists exactly where the accept won');
  assert.equal((await a.db.selectFrom('friend_requests').selectAll().execute()).length, 0);
});
