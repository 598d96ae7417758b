// Queries on the users table. Usernames are stored lower-case; callers pass
// whatever the client typed and these functions normalize it.
import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface PublicUser {
  id: number;
  username: string;
}

export interface UserWithHash extends PublicUser {
  password_hash: string;
}

export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

/** Inserts a user; resolves null when the username is already taken (unique constraint). */
export async function createUser(db: Db, username: string, passwordHash: string): Promise<PublicUser | null> {
  const name = normalizeUsername(username);
  const row = await db
    .insertInto('users')
    .values({ username: name, password_hash: passwordHash, created_at: nowIso() })
    .onConflict((oc) => oc.column('username').doNothing())
    .returning(['id', 'username'])
    .executeTakeFirst();
  return row ?? null;
}

export async function findUserByUsername(db: Db, username: string): Promise<UserWithHash | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'username', 'password_hash'])
    .where('username', '=', normalizeUsername(username))
    .executeTakeFirst();
}

export async function findUserById(db: Db, id: number): Promise<PublicUser | undefined> {
  return db.selectFrom('users').select(['id', 'username']).where('id', '=', id).executeTakeFirst();
}
