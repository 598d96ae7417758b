// Kysely table types: the data model of ARCHITECTURE.md. Times are ISO-8601
// UTC strings (portable between SQLite and PostgreSQL, sortable as text).
// The migrations in migrations.ts create exactly these columns.
import type { Generated, Insertable, Selectable } from 'kysely';

export interface UserTable {
  id: Generated<number>;
  /** Lower-case, 3–30 chars of [a-z0-9_]; unique. */
  username: string;
  password_hash: string;
  created_at: string;
}

/** Server-side sessions; the cookie carries only the random id. */
export interface SessionTable {
  id: string;
  user_id: number;
  created_at: string;
  expires_at: string;
}

/** One row per friendship; user_low < user_high so each pair is stored once. */
export interface FriendshipTable {
  id: Generated<number>;
  user_low: number;
  user_high: number;
  created_at: string;
}

/** Pending requests only: accept/decline/cancel delete the row. Unique (from_user, to_user). */
export interface FriendRequestTable {
  id: Generated<number>;
  from_user: number;
  to_user: number;
  created_at: string;
}

export interface StreamRecordingTable {
  id: Generated<number>;
  owner_id: number;
  /** Base name under DATA_DIR/recordings; never a path from a client. */
  file_name: string;
  /** Optional raw (un-denoised) companion file, same folder. */
  raw_file_name: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number;
  size_bytes: number;
  sample_rate: number;
  denoise_engine: string;
  /**
   * 'recording' while live, 'complete' when finalized, 'recovered' after crash repair, 'interrupted' when its
   * node died and a survivor ended the stream (the file is repaired, and the row becomes 'recovered', by that
   * node's next start).
   */
  status: string;
  /** NODE_ID of the node recording it (null: from before clusters). */
  node_id: string | null;
}

/** At most one per user (unique user_id): a live stream. */
export interface ActiveStreamTable {
  id: Generated<number>;
  user_id: number;
  /** Media-plane session id (uuid). */
  session_id: string;
  started_at: string;
  denoise_engine: string;
  recording_id: number | null;
  /** NODE_ID of the node hosting the media session (null: from before clusters). */
  node_id: string | null;
}

export interface Database {
  users: UserTable;
  sessions: SessionTable;
  friendships: FriendshipTable;
  friend_requests: FriendRequestTable;
  stream_recordings: StreamRecordingTable;
  active_streams: ActiveStreamTable;
}

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type StreamRecording = Selectable<StreamRecordingTable>;
export type NewStreamRecording = Insertable<StreamRecordingTable>;
export type ActiveStream = Selectable<ActiveStreamTable>;
