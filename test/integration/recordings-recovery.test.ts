import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.js';
import { recordingFileName } from '../../src/control/live-streams.js';
import { Notifier, userTopic } from '../../src/control/notifier.js';
import { recoverRecordings } from '../../src/control/recovery.js';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { parseWavHeader, serializeWavHeader } from '../../src/media/recording/wav.js';
import { claimActiveStream, setActiveStreamRecording } from '../../src/store/active-streams.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { addFriendship } from '../../src/store/friends.js';
import { createRecording, finalizeRecording, getRecording, listVisibleRecordings } from '../../src/store/recordings.js';
import { createUser } from '../../src/store/users.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-recovery-'));
const recordingsDir = path.join(dir, 'recordings');
let db: Db;
const bus = new MemoryBus();
const inbox = new Map<number, Array<Record<string, unknown>>>();
const logged: string[] = [];
const log = { info: () => {}, warn: (_: object, m: string) => logged.push(m), error: (_: object, m: string) => logged.push(`ERROR ${m}`) };
let ann: number, bob: number, cid: number;

after(async () => {
  await bus.close();
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

before(async () => {
  db = await openDatabase(`sqlite:${path.join(dir, 'x.db')}`);
  ann = (await createUser(db, 'ann', 'h'))!.id;
  bob = (await createUser(db, 'bob', 'h'))!.id;
  cid = (await createUser(db, 'cid', 'h'))!.id;
  await addFriendship(db, ann, bob);
  for (const id of [ann, bob, cid]) {
    inbox.set(id, []);
    await bus.subscribe(userTopic(id), (m) => inbox.get(id)!.push(JSON.parse(m)));
  }
  mkdirSync(recordingsDir, { recursive: true });
});

const deps = () => ({ db, recordingsDir, notifier: new Notifier(db, bus, { isOnline: async () => false }), log });

test('after a crash, the live recording is repaired and finalized as recovered, orphan files are registered, stale streams are cleared and friends told', async () => {
  // ann was live: row 'recording', ActiveStream row, a file whose last write was torn.
  const annStart = new Date('2026-11-26T08:00:00.250Z');
  const annFile = recordingFileName('ann', annStart);
  const annId = await createRecording(db, { ownerId: ann, fileName: annFile, rawFileName: null, startedAt: annStart.toISOString(), sampleRate: 48000, engine: 'rnnoise' });
  await claimActiveStream(db, { userId: ann, sessionId: 's-ann', startedAt: annStart.toISOString(), engine: 'rnnoise' });
  await setActiveStreamRecording(db, 's-ann', annId);
  const rec = WavRecorder.open(path.join(recordingsDir, annFile), 48000);
  const hop = new Float32Array(480).fill(0.25);
  for (let k = 0; k < 220; k++) rec.write(hop); // 2.2 s: 2.0 s flushed, 0.2 s only in memory (lost with the process)
  appendFileSync(path.join(recordingsDir, annFile), Buffer.alloc(961, 7)); // a torn write reached the disk
  // bob's process died between creating the file and inserting the row: file (and raw companion) without a row.
  const bobStart = new Date('2026-11-26T07:00:00.000Z');
  const bobFile = recordingFileName('bob', bobStart);
  const bobRaw = bobFile.replace(/\.wav$/, '.raw.wav');
  const mono = { sampleRate: 48000, channels: 1, bitsPerSample: 16 };
  writeFileSync(path.join(recordingsDir, bobFile), Buffer.concat([serializeWavHeader(mono, 0), Buffer.alloc(48000)]));
  writeFileSync(path.join(recordingsDir, bobRaw), Buffer.concat([serializeWavHeader(mono, 0), Buffer.alloc(48000)]));
  // Left alone: a deleted user's file, a foreign file, a finalized recording.
  writeFileSync(path.join(recordingsDir, recordingFileName('zed', bobStart)), serializeWavHeader(mono, 0));
  writeFileSync(path.join(recordingsDir, 'notes.wav'), 'not audio');
  const doneFile = recordingFileName('cid', bobStart);
  const doneBytes = Buffer.concat([serializeWavHeader(mono, 96000), Buffer.alloc(96000, 1)]);
  writeFileSync(path.join(recordingsDir, doneFile), doneBytes);
  const doneId = await createRecording(db, { ownerId: cid, fileName: doneFile, rawFileName: null, startedAt: bobStart.toISOString(), sampleRate: 48000, engine: 'none' });
  await finalizeRecording(db, doneId, { endedAt: bobStart.toISOString(), durationMs: 1000, sizeBytes: 96044, status: 'complete' });

  const report = await recoverRecordings(deps());

  const annRow = (await getRecording(db, annId))!;
  const annBytes = readFileSync(path.join(recordingsDir, annFile));
  const h = parseWavHeader(annBytes);
  assert.equal(annRow.status, 'recovered');
  assert.equal(h.dataSize, annBytes.length - 44);
  assert.equal(h.dataSize, 2 * 48000 * 2 + 960, 'flushed audio plus the whole samples of the torn write');
  assert.equal(annRow.size_bytes, annBytes.length);
  assert.equal(annRow.duration_ms, Math.round((h.dataSize / 2 / 48000) * 1000));
  assert.ok(annRow.ended_at && annRow.ended_at >= annRow.started_at);
  assert.equal(annRow.denoise_engine, 'rnnoise');

  const bobRows = (await listVisibleRecordings(db, bob, { ownerId: bob, limit: 10 })).recordings;
  assert.equal(bobRows.length, 1);
  assert.deepEqual(
    { file: bobRows[0]!.file_name, raw: bobRows[0]!.raw_file_name, started: bobRows[0]!.started_at, status: bobRows[0]!.status, ms: bobRows[0]!.duration_ms },
    { file: bobFile, raw: bobRaw, started: bobStart.toISOString(), status: 'recovered', ms: 500 },
  );
  assert.equal(parseWavHeader(readFileSync(path.join(recordingsDir, bobRaw))).dataSize, 48000);

  assert.deepEqual(readFileSync(path.join(recordingsDir, doneFile)), doneBytes);
  assert.equal((await getRecording(db, doneId))!.status, 'complete');
  assert.deepEqual(report.staleStreams, ['s-ann']);
  assert.equal((await db.selectFrom('active_streams').selectAll().execute()).length, 0);
  assert.deepEqual([...report.skipped].sort(), ['notes.wav', recordingFileName('zed', bobStart)].sort());
  assert.deepEqual([...report.recovered].sort(), [annId, bobRows[0]!.id].sort());

  const offline = { type: 'streaming_status', username: 'ann', is_streaming: false };
  assert.deepEqual(inbox.get(bob)!.filter((m) => m.type === 'streaming_status'), [offline], 'friend told ann is offline');
  assert.deepEqual(inbox.get(ann)!.filter((m) => m.type === 'streaming_status'), [offline], 'ann told herself');
  assert.deepEqual(inbox.get(cid), [], 'a stranger hears nothing');
  const added = (id: number) => inbox.get(id)!.filter((m) => m.type === 'recording_added').map((m) => (m.recording as { id: number }).id).sort();
  assert.deepEqual(added(bob), [annId, bobRows[0]!.id].sort());
  assert.deepEqual(added(ann), [annId, bobRows[0]!.id].sort());
  rec.close();
});

test('recovery run again finds nothing to do and sends nothing', async () => {
  for (const box of inbox.values()) box.length = 0;
  const report = await recoverRecordings(deps());
  assert.deepEqual(report.recovered, []);
  assert.deepEqual(report.staleStreams, []);
  assert.equal([...inbox.values()].flat().length, 0);
});

test('an unfinished row whose file does not exist is removed (nothing to play), not listed as an empty recording', async () => {
  const id = await createRecording(db, { ownerId: cid, fileName: 'cid_20261126T110000_000Z.wav', rawFileName: null, startedAt: '2026-11-26T11:00:00.000Z', sampleRate: 48000, engine: 'none' });
  const report = await recoverRecordings(deps());
  assert.deepEqual(report.recovered, []);
  assert.equal(await getRecording(db, id), null);
  assert.ok(logged.includes('unfinished recording without a file removed'));
});

test('an unusable recordings folder does not stop the start-up: unfinished rows wait for the next start', async () => {
  const id = await createRecording(db, { ownerId: cid, fileName: 'cid_20261126T120000_000Z.wav', rawFileName: null, startedAt: '2026-11-26T12:00:00.000Z', sampleRate: 48000, engine: 'none' });
  const notADir = path.join(dir, 'plain-file');
  writeFileSync(notADir, 'x');
  const report = await recoverRecordings({ ...deps(), recordingsDir: path.join(notADir, 'recordings') });
  assert.deepEqual(report.recovered, []);
  assert.equal((await getRecording(db, id))!.status, 'recording');
  assert.ok(logged.some((m) => m.startsWith('ERROR recordings folder unusable')));
});
