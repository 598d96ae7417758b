// Friendships: one row per pair with user_low < user_high (see schema.ts), so
// every query orders the pair first.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { nowIso } from './db.js';

function ordered(a: number, b: number): [number, number] {
  return a < b ? [a, b] : [b, a];
}

export async function areFriends(db: Db, a: number, b: number): Promise<boolean> {
  if (a === b) return false;
  const [low, high] = ordered(a, b);
  const row = await db
    .selectFrom('friendships')
    .select('id')
    .where('user_low', '=', low)
    .where('user_high', '=', high)
    .executeTakeFirst();
  return row !== undefined;
}

/** Ids of every friend of `userId`. */
export async function friendIdsOf(db: Db, userId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('friendships')
    .select(sql<number>`case when user_low = ${userId} then user_high else user_low end`.as('friend_id'))
    .where((eb) => eb.or([eb('user_low', '=', userId), eb('user_high', '=', userId)]))
    .execute();
  return rows.map((r) => r.friend_id);
}

/** Creates the friendship; false when it already existed. */
export async function addFriendship(db: Db, a: number, b: number): Promise<boolean> {
  const [low, high] = ordered(a, b);
  const r = await db
    .insertInto('friendships')
    .values({ user_low: low, user_high: high, created_at: nowIso() })
    .onConflict((oc) => oc.columns(['user_low', 'user_high']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** Deletes the friendship; false when there was none. */
export async function removeFriendship(db: Db, a: number, b: number): Promise<boolean> {
  const [low, high] = ordered(a, b);
  const r = await db
    .deleteFrom('friendships')
    .where('user_low', '=', low)
    .where('user_high', '=', high)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export interface FriendRow {
  id: number;
  username: string;
  /** Live stream of that friend, from active_streams (null when not live). */
  session_id: string | null;
  started_at: string | null;
}

/** Every friend of `userId` with their live stream (if any), ordered by username. */
export async function listFriends(db: Db, userId: number): Promise<FriendRow[]> {
  return db
    .selectFrom('friendships')
    .innerJoin('users', (j) =>
      j.on(sql<boolean>`users.id = case when friendships.user_low = ${userId} then friendships.user_high else friendships.user_low end`),
    )
    .leftJoin('active_streams', 'active_streams.user_id', 'users.id')
    .select(['users.id as id', 'users.username as username', 'active_streams.session_id as session_id', 'active_streams.started_at as started_at'])
    .where((eb) => eb.or([eb('friendships.user_low', '=', userId), eb('friendships.user_high', '=', userId)]))
    .orderBy('users.username')
    .execute();
}

/** The live stream of one user, or undefined. */
export async function activeStreamOf(db: Db, userId: number): Promise<{ session_id: string; started_at: string } | undefined> {
  return db
    .selectFrom('active_streams')
    .select(['session_id', 'started_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
}
