import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Db, nowIso, openDatabase } from '../../src/store/db.js';
import {
  createFriendRequest,
  deleteFriendRequestsBetween,
  findFriendRequestBetween,
  incomingRequestsOf,
  outgoingRequestsOf,
} from '../../src/store/friend-requests.js';
import { addFriendship, areFriends, friendIdsOf, listFriends, removeFriendship } from '../../src/store/friends.js';
import { createSession, deleteExpiredSessions, deleteSession, findSessionUser } from '../../src/store/sessions.js';
import { createUser, findUserByUsername } from '../../src/store/users.js';
import { onEveryStore } from '../support/stores.js';

onEveryStore((store) => {
  let db: Db;
  before(async () => {
    db = await openDatabase(await store.newDatabaseUrl());
  });
  after(async () => {
    await db.destroy();
  });

  test('usernames are stored lower-case and are unique regardless of case', async () => {
    const ann = await createUser(db, 'Ann', 'h');
    assert.equal(ann?.username, 'ann');
    assert.equal(await createUser(db, 'ANN', 'h'), null);
    assert.equal((await findUserByUsername(db, 'aNn'))?.id, ann!.id);
  });

  test('a friendship is one row whichever side adds or removes it', async () => {
    const a = (await createUser(db, 'fa', 'h'))!;
    const b = (await createUser(db, 'fb', 'h'))!;
    assert.equal(await addFriendship(db, b.id, a.id), true);
    assert.equal(await addFriendship(db, a.id, b.id), false);
    assert.equal(await areFriends(db, a.id, b.id), true);
    assert.equal(await areFriends(db, b.id, a.id), true);
    assert.deepEqual(await friendIdsOf(db, a.id), [b.id]);
    assert.deepEqual(await friendIdsOf(db, b.id), [a.id]);
    await db.insertInto('active_streams').values({ user_id: b.id, session_id: 's1', started_at: nowIso(), denoise_engine: 'none', recording_id: null }).execute();
    const list = await listFriends(db, a.id);
    assert.equal(list.length, 1);
    assert.equal(list[0].username, 'fb');
    assert.equal(list[0].session_id, 's1');
    assert.equal((await listFriends(db, b.id))[0].session_id, null);
    assert.equal(await removeFriendship(db, a.id, b.id), true);
    assert.equal(await removeFriendship(db, b.id, a.id), false);
    assert.deepEqual(await friendIdsOf(db, a.id), []);
  });

  test('a duplicate friend request is refused by the store and requests list both ways', async () => {
    const a = (await createUser(db, 'ra', 'h'))!;
    const b = (await createUser(db, 'rb', 'h'))!;
    const r = await createFriendRequest(db, a.id, b.id);
    assert.ok(r);
    assert.equal(await createFriendRequest(db, a.id, b.id), null);
    assert.deepEqual((await incomingRequestsOf(db, b.id)).map((x) => x.username), ['ra']);
    assert.deepEqual((await outgoingRequestsOf(db, a.id)).map((x) => x.username), ['rb']);
    assert.equal(await deleteFriendRequestsBetween(db, b.id, a.id), 1);
    assert.equal(await findFriendRequestBetween(db, a.id, b.id), undefined);
  });

  test('a session resolves to its user until it expires or is deleted', async () => {
    const u = (await createUser(db, 'sess', 'h'))!;
    const id = await createSession(db, u.id, 1);
    assert.deepEqual(await findSessionUser(db, id), { id: u.id, username: 'sess' });
    assert.equal(await findSessionUser(db, 'forged'), undefined);
    const old = await createSession(db, u.id, -1);
    assert.equal(await findSessionUser(db, old), undefined);
    assert.equal(await deleteExpiredSessions(db), 1);
    assert.equal(await deleteSession(db, id), true);
    assert.equal(await findSessionUser(db, id), undefined);
  });
});
