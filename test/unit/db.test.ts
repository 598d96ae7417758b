import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { nowIso, openDatabase } from '../../src/store/db.js';

test('opening a new SQLite file creates every table and re-opening it is a no-op', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'hc-db-')), 'x.db');
  let db = await openDatabase(`sqlite:${file}`);
  await db.insertInto('users').values({ username: 'ann', password_hash: 'h', created_at: nowIso() }).execute();
  await db.destroy();
  db = await openDatabase(`sqlite:${file}`);
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  for (const t of ['active_streams', 'friend_requests', 'friendships', 'sessions', 'stream_recordings', 'users']) {
    assert.ok(tables.includes(t), `missing table ${t}`);
  }
  assert.equal((await db.selectFrom('users').selectAll().execute()).length, 1);
  await db.destroy();
});

test('an unsupported DATABASE_URL is refused with a clear message', async () => {
  await assert.rejects(openDatabase('mysql://x'), /unsupported DATABASE_URL/);
});
