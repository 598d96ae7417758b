import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { recordingFileName } from '../../src/control/live-streams.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { addFriendship, removeFriendship } from '../../src/store/friends.js';
import {
  createRecording,
  deleteRecording,
  finalizeRecording,
  getVisibleRecording,
  knownRecordingFiles,
  listVisibleRecordings,
  parseRecordingFileName,
  toRecordingJson,
  unfinishedRecordings,
} from '../../src/store/recordings.js';
import { createUser } from '../../src/store/users.js';
import { onEveryStore } from '../support/stores.js';

onEveryStore((store) => {
  let db: Db;
  let ann: number, bob: number, cid: number;
  after(async () => {
    await db?.destroy();
  });
  before(async () => {
    db = await openDatabase(await store.newDatabaseUrl());
    ann = (await createUser(db, 'ann', 'h'))!.id;
    bob = (await createUser(db, 'bob_2', 'h'))!.id;
    cid = (await createUser(db, 'cid', 'h'))!.id;
    await addFriendship(db, ann, bob);
  });

  async function finished(ownerId: number, name: string, startedAt: string): Promise<number> {
    const id = await createRecording(db, { ownerId, fileName: name, rawFileName: null, startedAt, sampleRate: 48000, engine: 'none' });
    await finalizeRecording(db, id, { endedAt: startedAt, durationMs: 1000, sizeBytes: 96044, status: 'complete' });
    return id;
  }

  test('file names made at stream start parse back to owner and start time', () => {
    const d = new Date('2026-11-26T09:36:04.123Z');
    const name = recordingFileName('bob_2', d);
    assert.deepEqual(parseRecordingFileName(name), { username: 'bob_2', startedAt: d.toISOString(), raw: false });
    assert.deepEqual(parseRecordingFileName(name.replace(/\.wav$/, '.raw.wav')), { username: 'bob_2', startedAt: d.toISOString(), raw: true });
    for (const bad of ['x.wav', '../ann_20261126T093604_123Z.wav', 'ann_20261399T093604_123Z.wav', 'ann_20261126T093604_123Z.mp3']) {
      assert.equal(parseRecordingFileName(bad), null, bad);
    }
  });

  test('a new recording is hidden from listings until it is finalized, then shows with the API fields', async () => {
    const id = await createRecording(db, { ownerId: ann, fileName: 'ann_live.wav', rawFileName: null, startedAt: '2026-01-01T00:00:00.000Z', sampleRate: 48000, engine: 'rnnoise' });
    assert.ok((await unfinishedRecordings(db)).some((r) => r.id === id));
    assert.ok(!(await listVisibleRecordings(db, ann, { limit: 50 })).recordings.some((r) => r.id === id));
    assert.equal(await finalizeRecording(db, id, { endedAt: '2026-01-01T00:00:02.000Z', durationMs: 2000.4, sizeBytes: 192044, status: 'complete' }), true);
    const row = (await listVisibleRecordings(db, ann, { limit: 50 })).recordings.find((r) => r.id === id)!;
    assert.deepEqual(toRecordingJson(row), {
      id,
      owner: 'ann',
      started_at: '2026-01-01T00:00:00.000Z',
      ended_at: '2026-01-01T00:00:02.000Z',
      duration_ms: 2000,
      size_bytes: 192044,
      sample_rate: 48000,
      engine: 'rnnoise',
      status: 'complete',
      has_raw: false,
    });
    assert.ok((await knownRecordingFiles(db)).has('ann_live.wav'));
    assert.equal(await finalizeRecording(db, 999999, { endedAt: 'x', durationMs: 0, sizeBytes: 0, status: 'complete' }), false);
  });

  test('visibility: owner and current friends see a recording, a stranger and an ex-friend do not', async () => {
    const id = await finished(bob, 'bob_vis.wav', '2026-02-01T00:00:00.000Z');
    assert.ok(await getVisibleRecording(db, bob, id));
    assert.ok(await getVisibleRecording(db, ann, id));
    assert.equal(await getVisibleRecording(db, cid, id), null);
    await addFriendship(db, bob, cid);
    assert.ok(await getVisibleRecording(db, cid, id));
    await removeFriendship(db, bob, cid);
    assert.equal(await getVisibleRecording(db, cid, id), null, 'ex-friend');
    assert.ok(!(await listVisibleRecordings(db, cid, { limit: 50 })).recordings.some((r) => r.id === id));
  });

  test('listing is newest first, paginates with next_before and filters by owner', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await finished(ann, `ann_page${i}.wav`, `2026-03-0${i + 1}T00:00:00.000Z`));
    // A recording registered later (recovery) but started earlier sorts by its start time.
    const old = await finished(ann, 'ann_old.wav', '2025-12-01T00:00:00.000Z');
    const seen: number[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await listVisibleRecordings(db, bob, { ownerId: ann, limit: 2, before: cursor });
      seen.push(...page.recordings.map((r) => r.id));
      assert.ok(page.recordings.every((r) => r.owner === 'ann'));
      if (page.nextBefore === null) break;
      cursor = page.nextBefore;
    }
    const all = (await listVisibleRecordings(db, bob, { ownerId: ann, limit: 100 })).recordings;
    assert.deepEqual(seen, all.map((r) => r.id));
    assert.deepEqual(seen.slice(0, 5), [...ids].reverse());
    assert.equal(seen[seen.length - 1], old);
    const startTimes = all.map((r) => r.started_at);
    assert.deepEqual(startTimes, [...startTimes].sort().reverse());
    const mixed = (await listVisibleRecordings(db, bob, { limit: 100 })).recordings;
    assert.ok(mixed.some((r) => r.owner === 'bob_2') && mixed.some((r) => r.owner === 'ann'));
  });

  test('delete returns the removed row once', async () => {
    const id = await finished(ann, 'ann_del.wav', '2026-04-01T00:00:00.000Z');
    assert.equal((await deleteRecording(db, id))?.file_name, 'ann_del.wav');
    assert.equal(await deleteRecording(db, id), null);
  });
});
