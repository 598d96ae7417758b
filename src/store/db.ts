// Opens the database named by DATABASE_URL and migrates it. `sqlite:<file>` is
// the embedded default (one node); `postgres://…` is the store shared by several
// nodes. Both run the same queries and the same migrations (migrations.ts).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import { ensurePrivateDir, ensurePrivateSqliteFile } from './private-files.js';
import type { Database } from './schema.js';

export { dialectOf } from './dialect.js';

export type Db = Kysely<Database>;

export interface OpenOptions {
  /** PostgreSQL pool size per node (default 10, pg's default). */
  poolSize?: number;
}

// int8 (bigint, counts and size_bytes) arrives from pg as a string by default; every int8 here is far below
// 2^53 (a WAV is capped at 4 GiB), so numbers keep the store's types the same on both dialects.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export async function openDatabase(databaseUrl: string, options: OpenOptions = {}): Promise<Db> {
  if (databaseUrl.startsWith('postgres://') || databaseUrl.startsWith('postgresql://')) {
    return openPostgres(databaseUrl, options);
  }
  if (!databaseUrl.startsWith('sqlite:')) {
    throw new Error(`unsupported DATABASE_URL "${redactUrl(databaseUrl)}": use sqlite:<file> or postgres://user:password@host:port/database`);
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

async function openPostgres(databaseUrl: string, options: OpenOptions): Promise<Db> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10 });
  // An idle client whose server connection drops (PostgreSQL restart) emits 'error' on the pool;
  // unhandled, that would kill the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db, databaseUrl);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** ISO-8601 UTC timestamp, the format of every time column. */
export function nowIso(): string {
  return new Date().toISOString();
}
