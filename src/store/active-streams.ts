// Queries on active_streams: at most one live stream per user. The unique
// user_id column is the race guard (two concurrent starts: exactly one insert
// wins), and deleting a row with RETURNING is the "exactly once" guard for
// ending it (only the caller that got the row back finalizes and notifies).
import type { Db } from './db.js';
import type { ActiveStream } from './schema.js';

export interface NewLiveStream {
  userId: number;
  sessionId: string;
  startedAt: string;
  engine: string;
  /** NODE_ID of the node that hosts the media session (null: unknown, tests of old rows). */
  nodeId?: string | null;
}

/**
 * Which rows a node's start-up clean-up may touch: null = every row (a standalone node owns them all);
 * a node id = that node's rows and those from before clusters (node_id NULL).
 */
export type NodeScope = string | null;

/** Claims the user's one live stream; null when the user already has one. */
export async function claimActiveStream(db: Db, s: NewLiveStream): Promise<ActiveStream | null> {
  const row = await db
    .insertInto('active_streams')
    .values({
      user_id: s.userId,
      session_id: s.sessionId,
      started_at: s.startedAt,
      denoise_engine: s.engine,
      recording_id: null,
      node_id: s.nodeId ?? null,
    })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  return row ?? null;
}

export async function setActiveStreamRecording(db: Db, sessionId: string, recordingId: number): Promise<void> {
  await db.updateTable('active_streams').set({ recording_id: recordingId }).where('session_id', '=', sessionId).execute();
}

export async function setActiveStreamEngine(db: Db, sessionId: string, engine: string): Promise<void> {
  await db.updateTable('active_streams').set({ denoise_engine: engine }).where('session_id', '=', sessionId).execute();
}

/** Removes the row and returns it; null when someone else already removed it. */
export async function releaseActiveStream(db: Db, sessionId: string): Promise<ActiveStream | null> {
  const row = await db.deleteFrom('active_streams').where('session_id', '=', sessionId).returningAll().executeTakeFirst();
  return row ?? null;
}

export async function activeStreamOfUser(db: Db, userId: number): Promise<ActiveStream | null> {
  const row = await db.selectFrom('active_streams').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row ?? null;
}

export async function activeStreamBySession(db: Db, sessionId: string): Promise<ActiveStream | null> {
  const row = await db.selectFrom('active_streams').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
  return row ?? null;
}

export async function activeStreamsOfUsers(db: Db, userIds: readonly number[]): Promise<ActiveStream[]> {
  if (userIds.length === 0) return [];
  return db.selectFrom('active_streams').selectAll().where('user_id', 'in', userIds).execute();
}

export async function allActiveStreams(db: Db, scope: NodeScope = null): Promise<ActiveStream[]> {
  let q = db.selectFrom('active_streams').selectAll();
  if (scope !== null) q = q.where((eb) => eb.or([eb('node_id', '=', scope), eb('node_id', 'is', null)]));
  return q.orderBy('id').execute();
}

/** The live streams hosted by one node (to end them when it died). */
export async function activeStreamsOfNode(db: Db, nodeId: string): Promise<ActiveStream[]> {
  return db.selectFrom('active_streams').selectAll().where('node_id', '=', nodeId).orderBy('id').execute();
}
