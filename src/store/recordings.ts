// Queries on stream_recordings. A row is created ('recording') when a stream
// starts and finalized ('complete') when it stops, or registered/finalized as
// 'recovered' by start-up crash repair. Visibility rule (issue 4): a recording
// is visible to its owner and the owner's CURRENT friends; to everybody else
// it does not exist. Listings hide rows still being recorded.
import { type ExpressionBuilder, sql } from 'kysely';
import type { Db } from './db.js';
import type { Database, StreamRecording } from './schema.js';
import type { Recording } from '../contract.js';

export type RecordingStatus = 'recording' | 'complete' | 'recovered' | 'interrupted';

/** The API shape (docs/api.md "Recordings" and the recording_added event): the shared contract's Recording. */
export type RecordingJson = Recording;

export type RecordingWithOwner = StreamRecording & { owner: string };

export interface NewRecording {
  ownerId: number;
  fileName: string;
  rawFileName: string | null;
  startedAt: string;
  sampleRate: number;
  engine: string;
  /** 'recording' (default) while live; recovery registers orphan files directly as 'recovered'. */
  status?: RecordingStatus;
  endedAt?: string | null;
  durationMs?: number;
  sizeBytes?: number;
  /** NODE_ID of the node that records it. */
  nodeId?: string | null;
}

export interface RecordingEnd {
  endedAt: string;
  durationMs: number;
  sizeBytes: number;
  status: RecordingStatus;
}

/** Inserts the row; returns its id. File names are unique (a second row for the same file is refused). */
export async function createRecording(db: Db, r: NewRecording): Promise<number> {
  const row = await db
    .insertInto('stream_recordings')
    .values({
      owner_id: r.ownerId,
      file_name: r.fileName,
      raw_file_name: r.rawFileName,
      started_at: r.startedAt,
      ended_at: r.endedAt ?? null,
      duration_ms: r.durationMs ?? 0,
      size_bytes: r.sizeBytes ?? 0,
      sample_rate: r.sampleRate,
      denoise_engine: r.engine,
      status: r.status ?? 'recording',
      node_id: r.nodeId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Records how the recording ended; false when the row no longer exists. */
export async function finalizeRecording(db: Db, id: number, end: RecordingEnd): Promise<boolean> {
  const r = await db
    .updateTable('stream_recordings')
    .set({ ended_at: end.endedAt, duration_ms: Math.round(end.durationMs), size_bytes: end.sizeBytes, status: end.status })
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Removes the row and returns it (the caller deletes its files); null when it was already gone. */
export async function deleteRecording(db: Db, id: number): Promise<StreamRecording | null> {
  const row = await db.deleteFrom('stream_recordings').where('id', '=', id).returningAll().executeTakeFirst();
  return row ?? null;
}

export async function getRecording(db: Db, id: number): Promise<RecordingWithOwner | null> {
  const row = await withOwner(db).where('stream_recordings.id', '=', id).executeTakeFirst();
  return row ?? null;
}

/** The recording if `viewerId` may see it (owner or current friend of the owner), else null. */
export async function getVisibleRecording(db: Db, viewerId: number, id: number): Promise<RecordingWithOwner | null> {
  const row = await withOwner(db)
    .where('stream_recordings.id', '=', id)
    .where((eb) => visibleTo(eb, viewerId))
    .executeTakeFirst();
  return row ?? null;
}

export interface ListQuery {
  /** Only this owner's recordings (still subject to visibility). */
  ownerId?: number;
  /** Cursor: the id of the last recording of the previous page. */
  before?: number;
  limit: number;
}

/**
 * Finished recordings visible to `viewerId`, newest first (started_at, then id), one page.
 * `nextBefore` is the cursor for the next page, or null on the last page.
 */
export async function listVisibleRecordings(
  db: Db,
  viewerId: number,
  q: ListQuery,
): Promise<{ recordings: RecordingWithOwner[]; nextBefore: number | null }> {
  let query = withOwner(db)
    .where('stream_recordings.status', 'not in', ['recording', 'interrupted'])
    .where((eb) => visibleTo(eb, viewerId));
  if (q.ownerId !== undefined) query = query.where('stream_recordings.owner_id', '=', q.ownerId);
  if (q.before !== undefined) {
    const cursor = await db.selectFrom('stream_recordings').select(['id', 'started_at']).where('id', '=', q.before).executeTakeFirst();
    // A cursor row deleted meanwhile: continue from its id alone (ids grow with time, close enough).
    query = cursor
      ? query.where((eb) =>
          eb.or([
            eb('stream_recordings.started_at', '<', cursor.started_at),
            eb.and([eb('stream_recordings.started_at', '=', cursor.started_at), eb('stream_recordings.id', '<', cursor.id)]),
          ]),
        )
      : query.where('stream_recordings.id', '<', q.before);
  }
  const rows = await query
    .orderBy('stream_recordings.started_at', 'desc')
    .orderBy('stream_recordings.id', 'desc')
    .limit(q.limit + 1)
    .execute();
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  return { recordings: page, nextBefore: more ? page[page.length - 1]!.id : null };
}

/**
 * Rows a crash left unfinished ('recording', or 'interrupted' by a survivor of the crash) that this node
 * recorded: `scope` null = every row (standalone), a node id = its rows and those from before clusters.
 */
export async function unfinishedRecordings(db: Db, scope: string | null = null): Promise<RecordingWithOwner[]> {
  let q = withOwner(db).where('stream_recordings.status', 'in', ['recording', 'interrupted']);
  if (scope !== null) q = q.where((eb) => eb.or([eb('stream_recordings.node_id', '=', scope), eb('stream_recordings.node_id', 'is', null)]));
  return q.orderBy('stream_recordings.id').execute();
}

/**
 * A survivor ended the stream of a dead node: its recording stops being 'recording' (ended now, hidden from
 * listings until the recording node's next start repairs the file and marks it 'recovered').
 */
export async function interruptRecording(db: Db, id: number, endedAt: string): Promise<boolean> {
  const r = await db
    .updateTable('stream_recordings')
    .set({ status: 'interrupted', ended_at: endedAt })
    .where('id', '=', id)
    .where('status', '=', 'recording')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Every file name (main and raw) that has a row, for finding orphan files. */
export async function knownRecordingFiles(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('stream_recordings').select(['file_name', 'raw_file_name']).execute();
  const names = new Set<string>();
  for (const r of rows) {
    names.add(r.file_name);
    if (r.raw_file_name) names.add(r.raw_file_name);
  }
  return names;
}

export function toRecordingJson(r: RecordingWithOwner): RecordingJson {
  return {
    id: r.id,
    owner: r.owner,
    started_at: r.started_at,
    ended_at: r.ended_at,
    duration_ms: r.duration_ms,
    size_bytes: r.size_bytes,
    sample_rate: r.sample_rate,
    engine: r.denoise_engine,
    status: r.status,
    has_raw: r.raw_file_name !== null,
  };
}

const FILE_NAME = /^([a-z0-9_]{3,30})_(\d{8}T\d{6})_(\d{3})Z(\.raw)?\.(?:wav|opus)$/;

/**
 * Inverse of recordingFileName (src/control/live-streams.ts: `<username>_<yyyymmddThhmmss_mmm>Z.opus` or `.wav`,
 * raw companion `….raw.opus` / `….raw.wav`): owner and start time of a file found on disk, or null for foreign names.
 */
export function parseRecordingFileName(name: string): { username: string; startedAt: string; raw: boolean } | null {
  const m = FILE_NAME.exec(name);
  if (!m) return null;
  const [, username, stamp, ms, raw] = m;
  const iso = `${stamp!.slice(0, 4)}-${stamp!.slice(4, 6)}-${stamp!.slice(6, 8)}T${stamp!.slice(9, 11)}:${stamp!.slice(11, 13)}:${stamp!.slice(13, 15)}.${ms}Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== iso) return null;
  return { username: username!, startedAt: iso, raw: raw !== undefined };
}

function withOwner(db: Db) {
  return db
    .selectFrom('stream_recordings')
    .innerJoin('users', 'users.id', 'stream_recordings.owner_id')
    .selectAll('stream_recordings')
    .select('users.username as owner');
}

function visibleTo(eb: ExpressionBuilder<Database & { users: Database['users'] }, 'stream_recordings' | 'users'>, viewerId: number) {
  return eb.or([
    eb('stream_recordings.owner_id', '=', viewerId),
    eb.exists(
      eb
        .selectFrom('friendships')
        .select(sql`1`.as('one'))
        .where((f) =>
          f.or([
            f.and([f('friendships.user_low', '=', viewerId), f('friendships.user_high', '=', f.ref('stream_recordings.owner_id'))]),
            f.and([f('friendships.user_high', '=', viewerId), f('friendships.user_low', '=', f.ref('stream_recordings.owner_id'))]),
          ]),
        ),
    ),
  ]);
}
