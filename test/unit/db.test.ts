import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { nowIso, openDatabase } from '../../src/store/db.js';
import { MIGRATION_LOCK_KEY, MIGRATION_NAMES } from '../../src/store/migrations.js';
import { createRecording, finalizeRecording, getRecording } from '../../src/store/recordings.js';
import { createUser } from '../../src/store/users.js';
import { onEveryStore, postgresStore } from '../support/stores.js';

const TABLES = ['active_streams', 'friend_requests', 'friendships', 'sessions', 'stream_recordings', 'users'];

onEveryStore((store) => {
  test('opening a new database creates every table and re-opening it is a no-op', async () => {
    const url = await store.newDatabaseUrl();
    let db = await openDatabase(url);
    await db.insertInto('users').values({ username: 'ann', password_hash: 'h', created_at: nowIso() }).execute();
    await db.destroy();
    db = await openDatabase(url);
    const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
    for (const t of TABLES) assert.ok(tables.includes(t), `missing table ${t}`);
    assert.equal((await db.selectFrom('users').selectAll().execute()).length, 1);
    await db.destroy();
  });

  test('a recording of 4 GiB (the RIFF limit) keeps its exact size and duration as numbers', async () => {
    const db = await openDatabase(await store.newDatabaseUrl());
    try {
      const owner = (await createUser(db, 'big', 'h'))!;
      const id = await createRecording(db, { ownerId: owner.id, fileName: 'big.wav', rawFileName: null, startedAt: nowIso(), sampleRate: 48000, engine: 'none' });
      await finalizeRecording(db, id, { endedAt: nowIso(), durationMs: 44_739_242, sizeBytes: 4_294_967_295, status: 'complete' });
      const row = (await getRecording(db, id))!;
      assert.equal(row.size_bytes, 4_294_967_295);
      assert.equal(row.duration_ms, 44_739_242);
      assert.equal(typeof row.id, 'number');
    } finally {
      await db.destroy();
    }
  });
});

test('an unsupported DATABASE_URL is refused with a clear message that does not show the password', async () => {
  await assert.rejects(openDatabase('mysql://x'), /unsupported DATABASE_URL/);
  await assert.rejects(openDatabase('mysql://me:secret@db/x'), (err: Error) => !err.message.includes('secret') && /me:\*\*\*@db/.test(err.message));
});

test('several nodes starting at once on an empty PostgreSQL database all come up and the schema is migrated once', async () => {
  const url = await postgresStore.newDatabaseUrl();
  const nodes = await Promise.all(Array.from({ length: 6 }, () => openDatabase(url, { poolSize: 2 })));
  try {
    const migrated = await nodes[0]!.selectFrom('kysely_migration' as any).selectAll().execute();
    assert.deepEqual(migrated.map((r: any) => r.name).sort(), [...MIGRATION_NAMES], 'each migration ran exactly once');
    // Every node works on the one schema: a user made through one is seen by all.
    await createUser(nodes[1]!, 'shared', 'h');
    for (const db of nodes) assert.equal((await db.selectFrom('users').select('username').execute()).length, 1);
  } finally {
    await Promise.all(nodes.map((db) => db.destroy()));
  }
});

test('a PostgreSQL node waits for the migration lock held by another node before migrating', { timeout: 30_000 }, async () => {
  const url = await postgresStore.newDatabaseUrl();
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  try {
    await other.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    let opened = false;
    const opening = openDatabase(url).then((db) => {
      opened = true;
      return db;
    });
    // The newcomer's lock request shows up in pg_locks as not granted: it is waiting, not migrating.
    for (;;) {
      const waiting = await other.query("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted");
      if (waiting.rows[0].n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const tables = await other.query("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
    assert.equal(tables.rows[0].n, 0, 'nothing was created while the lock was held');
    assert.equal(opened, false);
    await other.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    const db = await opening;
    assert.ok((await db.introspection.getTables()).some((t) => t.name === 'users'));
    await db.destroy();
  } finally {
    await other.end();
  }
});
