// Pending friend requests. A row exists only while the request is pending:
// accept, decline and cancel delete it (see schema.ts).
import { sql } from 'kysely';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import { dialectOf } from './dialect.js';

export interface FriendRequestRow {
  id: number;
  from_user: number;
  to_user: number;
  created_at: string;
}

export interface FriendRequestView {
  id: number;
  /** The other person: the sender for incoming, the recipient for outgoing. */
  username: string;
  created_at: string;
}

/**
 * Serializes every friend change between two users until the calling transaction ends. Each such change
 * reads (are they friends? who asked whom?) and then writes; under PostgreSQL's READ COMMITTED two nodes
 * could both read "no request from the other side" and leave two crossed requests, or one could accept a
 * request another just cancelled. A transaction-scoped advisory lock on the ordered pair prevents that.
 * SQLite needs nothing: its one connection runs transactions one at a time.
 */
export async function lockFriendPair(trx: Db, a: number, b: number): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  const [low, high] = a < b ? [a, b] : [b, a];
  await sql`select pg_advisory_xact_lock(${low}::int4, ${high}::int4)`.execute(trx);
}

/** Inserts a request; null when one from `from` to `to` already exists. */
export async function createFriendRequest(db: Db, from: number, to: number): Promise<FriendRequestRow | null> {
  const row = await db
    .insertInto('friend_requests')
    .values({ from_user: from, to_user: to, created_at: nowIso() })
    .onConflict((oc) => oc.columns(['from_user', 'to_user']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export async function findFriendRequest(db: Db, id: number): Promise<FriendRequestRow | undefined> {
  return db.selectFrom('friend_requests').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findFriendRequestBetween(db: Db, from: number, to: number): Promise<FriendRequestRow | undefined> {
  return db
    .selectFrom('friend_requests')
    .selectAll()
    .where('from_user', '=', from)
    .where('to_user', '=', to)
    .executeTakeFirst();
}

export async function deleteFriendRequest(db: Db, id: number): Promise<boolean> {
  const r = await db.deleteFrom('friend_requests').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes pending requests in either direction between two users (used when they become friends). */
export async function deleteFriendRequestsBetween(db: Db, a: number, b: number): Promise<number> {
  const r = await db
    .deleteFrom('friend_requests')
    .where((eb) =>
      eb.or([
        eb.and([eb('from_user', '=', a), eb('to_user', '=', b)]),
        eb.and([eb('from_user', '=', b), eb('to_user', '=', a)]),
      ]),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function incomingRequestsOf(db: Db, userId: number): Promise<FriendRequestView[]> {
  return db
    .selectFrom('friend_requests')
    .innerJoin('users', 'users.id', 'friend_requests.from_user')
    .select(['friend_requests.id as id', 'users.username as username', 'friend_requests.created_at as created_at'])
    .where('friend_requests.to_user', '=', userId)
    .orderBy('friend_requests.id')
    .execute();
}

export async function outgoingRequestsOf(db: Db, userId: number): Promise<FriendRequestView[]> {
  return db
    .selectFrom('friend_requests')
    .innerJoin('users', 'users.id', 'friend_requests.to_user')
    .select(['friend_requests.id as id', 'users.username as username', 'friend_requests.created_at as created_at'])
    .where('friend_requests.from_user', '=', userId)
    .orderBy('friend_requests.id')
    .execute();
}
