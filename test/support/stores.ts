// Runs a group of store tests once on SQLite (a temporary file) and once on a
// real PostgreSQL server started for the test file (test/support/postgres-server.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { type RunningPostgres, startPostgresServer } from './postgres-server.js';

export interface StoreUnderTest {
  name: 'SQLite' | 'PostgreSQL';
  /** A DATABASE_URL naming a new, empty database. */
  newDatabaseUrl(): Promise<string>;
}

let server: Promise<RunningPostgres> | undefined;
const dirs: string[] = [];
after(async () => {
  if (server) await (await server).stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export const sqliteStore: StoreUnderTest = {
  name: 'SQLite',
  async newDatabaseUrl() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-store-'));
    dirs.push(dir);
    return `sqlite:${path.join(dir, 'x.db')}`;
  },
};

export const postgresStore: StoreUnderTest = {
  name: 'PostgreSQL',
  async newDatabaseUrl() {
    server ??= startPostgresServer();
    return (await server).createDatabase();
  },
};

/** The PostgreSQL server of this test file (started on first use). */
export async function postgresServer(): Promise<RunningPostgres> {
  server ??= startPostgresServer();
  return server;
}

/** Defines the tests in `define` twice: `on SQLite` and `on PostgreSQL`. */
export function onEveryStore(define: (store: StoreUnderTest) => void): void {
  for (const store of [sqliteStore, postgresStore]) describe(`on ${store.name}`, () => define(store));
}
