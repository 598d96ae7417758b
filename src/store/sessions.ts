// Server-side sessions: the cookie carries only a random id; the row says who
// and until when. Deleting the row signs the browser out everywhere it is used.
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import type { PublicUser } from './users.js';

/** Creates a session row for `userId` valid for `ttlHours`; returns its id (256 random bits, base64url). */
export async function createSession(db: Db, userId: number, ttlHours: number): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  const now = Date.now();
  await db
    .insertInto('sessions')
    .values({
      id,
      user_id: userId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + ttlHours * 3_600_000).toISOString(),
    })
    .execute();
  return id;
}

/** The user of a live (unexpired) session, or undefined. */
export async function findSessionUser(db: Db, sessionId: string): Promise<PublicUser | undefined> {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id as id', 'users.username as username'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.expires_at', '>', nowIso())
    .executeTakeFirst();
}

/** The user of a live session and when it expires (epoch ms), or undefined. */
export async function findLiveSession(db: Db, sessionId: string): Promise<{ user: PublicUser; expiresAt: number } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id as id', 'users.username as username', 'sessions.expires_at as expires_at'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.expires_at', '>', nowIso())
    .executeTakeFirst();
  return row ? { user: { id: row.id, username: row.username }, expiresAt: Date.parse(row.expires_at) } : undefined;
}

/** Which of `sessionIds` are still live (exist and unexpired). */
export async function liveSessionIds(db: Db, sessionIds: string[]): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  const rows = await db.selectFrom('sessions').select('id').where('id', 'in', sessionIds).where('expires_at', '>', nowIso()).execute();
  return new Set(rows.map((r) => r.id));
}

export async function deleteSession(db: Db, sessionId: string): Promise<boolean> {
  const r = await db.deleteFrom('sessions').where('id', '=', sessionId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Removes expired rows; returns how many. */
export async function deleteExpiredSessions(db: Db): Promise<number> {
  const r = await db.deleteFrom('sessions').where('expires_at', '<=', nowIso()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
