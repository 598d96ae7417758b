// Schema migrations, run at start-up in order. Never edit a shipped migration:
// add a new one. Column types stay portable (SQLite now, PostgreSQL later).
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('user_low', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('user_high', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('friendships_pair', ['user_low', 'user_high'])
        .addCheckConstraint('friendships_ordered', sql`user_low < user_high`)
        .execute();
      await db.schema.createIndex('friendships_high').on('friendships').column('user_high').execute();
      await db.schema
        .createTable('friend_requests')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('from_user', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('to_user', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('friend_requests_pair', ['from_user', 'to_user'])
        .addCheckConstraint('friend_requests_not_self', sql`from_user <> to_user`)
        .execute();
      await db.schema.createIndex('friend_requests_to').on('friend_requests').column('to_user').execute();
      await db.schema
        .createTable('stream_recordings')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('file_name', 'text', (c) => c.notNull().unique())
        .addColumn('raw_file_name', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('size_bytes', 'integer', (c) => c.notNull().defaultTo(0))
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
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('user_id', 'integer', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
        .addColumn('session_id', 'text', (c) => c.notNull().unique())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('denoise_engine', 'text', (c) => c.notNull())
        .addColumn('recording_id', 'integer', (c) => c.references('stream_recordings.id').onDelete('set null'))
        .execute();
    },
  },
};

class InlineMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Brings the database to the latest schema; throws with the failing migration's name. */
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider: new InlineMigrations() }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
