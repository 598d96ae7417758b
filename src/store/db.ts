// Opens the database named by DATABASE_URL and migrates it. SQLite (default,
// embedded) today; a `postgres://` URL is the place PostgreSQL plugs in.
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { migrateToLatest } from './migrations.js';
import { ensurePrivateDir, ensurePrivateSqliteFile } from './private-files.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export async function openDatabase(databaseUrl: string): Promise<Db> {
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new Error(`unsupported DATABASE_URL "${databaseUrl}": only sqlite:<file> is supported in this version`);
  }
  const file = databaseUrl.slice('sqlite:'.length);
  if (file !== ':memory:') {
    // Password hashes and session ids: 0600 before SQLite opens it, so -wal and -shm are created 0600 too.
    ensurePrivateDir(path.dirname(path.resolve(file)));
    ensurePrivateSqliteFile(file);
  }
  const sqlite = new SQLite(file);
  // WAL: readers never block the writer; NORMAL sync is durable across process crashes.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  return db;
}

/** ISO-8601 UTC timestamp, the format of every time column. */
export function nowIso(): string {
  return new Date().toISOString();
}
