// Schema migrations, run at start-up in order. Never edit a shipped migration:
// add a new one. The same migrations run on SQLite and PostgreSQL; the few
// column types the two spell differently go through `types(db)` (the SQLite
// DDL is byte for byte what it was before PostgreSQL existed).
import {
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  sql,
} from 'kysely';
import pg from 'pg';
import { dialectOf } from './dialect.js';

/** Column spellings per dialect: SQLite's INTEGER is 64-bit, PostgreSQL's is 32-bit. */
function types(db: Kysely<any>) {
  const postgres = dialectOf(db) === 'postgres';
  return {
    /** Auto-numbered primary key: SQLite AUTOINCREMENT, PostgreSQL identity column. */
    id: (c: ColumnDefinitionBuilder) => (postgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement()),
    /** Integers that may pass 2^31 (bytes of a recording up to the 4 GiB RIFF limit, milliseconds of 12 h). */
    int64: (postgres ? 'bigint' : 'integer') as ColumnDataType,
  };
}

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      const t = types(db);
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', t.id)
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
      await db.schema
        .createTable('friendships')
        .addColumn('id', 'integer', t.id)
        .addColumn('user_low', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('user_high', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('friendships_pair', ['user_low', 'user_high'])
        .addCheckConstraint('friendships_ordered', sql`user_low < user_high`)
        .execute();
      await db.schema.createIndex('friendships_high').on('friendships').column('user_high').execute();
      await db.schema
        .createTable('friend_requests')
        .addColumn('id', 'integer', t.id)
        .addColumn('from_user', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('to_user', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('friend_requests_pair', ['from_user', 'to_user'])
        .addCheckConstraint('friend_requests_not_self', sql`from_user <> to_user`)
        .execute();
      await db.schema.createIndex('friend_requests_to').on('friend_requests').column('to_user').execute();
      await db.schema
        .createTable('stream_recordings')
        .addColumn('id', 'integer', t.id)
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('file_name', 'text', (c) => c.notNull().unique())
        .addColumn('raw_file_name', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('duration_ms', t.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('size_bytes', t.int64, (c) => c.notNull().defaultTo(0))
        .addColumn('sample_rate', 'integer', (c) => c.notNull())
        .addColumn('denoise_engine', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('stream_recordings_owner_started')
        .on('stream_recordings')
        .columns(['owner_id', 'started_at'])
        .execute();
      await db.schema
        .createTable('active_streams')
        .addColumn('id', 'integer', t.id)
        .addColumn('user_id', 'integer', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
        .addColumn('session_id', 'text', (c) => c.notNull().unique())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('denoise_engine', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'integer', (c) => c.references('stream_recordings.id').onDelete('set null'))
        .execute();
    },
  },
  '0002_node_ownership': {
    // Several nodes share one database: each live stream and each recording row names the node that hosts or
    // records it, so start-up recovery touches only its own rows and a survivor can end a dead node's streams.
    // NULL = written before clusters existed (a single node's).
    async up(db: Kysely<any>) {
      await db.schema.alterTable('active_streams').addColumn('node_id', 'text').execute();
      await db.schema.alterTable('stream_recordings').addColumn('node_id', 'text').execute();
      await db.schema.createIndex('active_streams_node').on('active_streams').column('node_id').execute();
      await db.schema.createIndex('stream_recordings_node_status').on('stream_recordings').columns(['node_id', 'status']).execute();
    },
  },
};

/** Names of every migration, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrations);

class InlineMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/**
 * Key of the session-level advisory lock that serializes start-up migration across nodes
 * (PostgreSQL). Any 64-bit number no other program on the database uses; this is "hushcast" in ASCII.
 */
export const MIGRATION_LOCK_KEY = 0x68757368636173n;

/**
 * Brings the database to the latest schema; throws with the failing migration's name.
 * On PostgreSQL (`databaseUrl` given) several nodes may start at once: each holds an advisory lock
 * on a connection of its own for the whole run (creating Kysely's bookkeeping tables included), so
 * exactly one migrates and the others wait, then find nothing left to do.
 */
export async function migrateToLatest(db: Kysely<any>, databaseUrl?: string): Promise<void> {
  if (dialectOf(db) !== 'postgres') return runMigrations(db);
  if (!databaseUrl) throw new Error('migrateToLatest on PostgreSQL needs the database URL for its lock connection');
  const lock = new pg.Client({ connectionString: databaseUrl });
  lock.on('error', () => {}); // a lost lock connection surfaces as the migration's own query error
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    await runMigrations(db);
  } finally {
    // Closing the session releases the lock even if the unlock query is never sent.
    await lock.end().catch(() => {});
  }
}

async function runMigrations(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: new InlineMigrations() }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
