// Start-up recovery of Ogg Opus recordings (issue 19), on a real SQLite file and real
// recorder files: a live recording left by a crash has its torn last page cut and its
// end-of-stream set and is finalized with the repaired duration; an orphan .opus file
// is registered with its .raw.opus companion; .peaks side files are never taken for
// recordings; WAV and Opus recordings are recovered side by side.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryBus } from '../../src/bus/memory.js';
import { recordingFileName } from '../../src/control/live-streams.js';
import { Notifier } from '../../src/control/notifier.js';
import { recoverRecordings } from '../../src/control/recovery.js';
import { OGG_EOS, checkOggPage, parseOggPageHeader } from '../../src/media/recording/ogg.js';
import { readOggOpusInfo } from '../../src/media/recording/ogg-opus-file.js';
import { OggOpusRecorder, peaksPathFor } from '../../src/media/recording/ogg-opus-recorder.js';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { createRecording, getRecording, listVisibleRecordings } from '../../src/store/recordings.js';
import { createUser } from '../../src/store/users.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-recovery-opus-'));
const recordingsDir = path.join(dir, 'recordings');
let db: Db;
const bus = new MemoryBus();
const log = { info: () => {}, warn: () => {}, error: (_: object, m: string) => assert.fail(`recovery logged an error: ${m}`) };
let ann: number;
let bob: number;

before(async () => {
  db = await openDatabase(`sqlite:${path.join(dir, 'x.db')}`);
  ann = (await createUser(db, 'ann', 'h'))!.id;
  bob = (await createUser(db, 'bob', 'h'))!.id;
  mkdirSync(recordingsDir, { recursive: true });
});
after(async () => {
  await bus.close();
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function tone(frames: number, rec: { write(f: Float32Array): void }): void {
  const f = new Float32Array(480);
  for (let k = 0; k < frames; k++) {
    for (let i = 0; i < 480; i++) f[i] = 0.3 * Math.sin(((k * 480 + i) * 2 * Math.PI * 440) / 48_000);
    rec.write(f);
  }
}

function lastPage(bytes: Buffer): { flags: number; granule: number; end: number } {
  let last = { flags: 0, granule: 0, end: 0 };
  for (let at = 0; at < bytes.length; ) {
    const h = parseOggPageHeader(bytes, at);
    assert.ok(h !== null && h !== 'corrupt' && checkOggPage(bytes, at, h.pageLength), `whole page at ${at}`);
    at += h.pageLength;
    last = { flags: h.flags, granule: h.granule, end: at };
  }
  return last;
}

test('after a crash, a live Opus recording is cut after its last whole page, marked end-of-stream and finalized with that duration; an orphan .opus is registered with its raw companion; .peaks files are left alone', async () => {
  // ann was live: the row says 'recording'; the file holds 2.0 s of whole pages and a torn one.
  const annStart = new Date('2026-12-07T08:00:00.250Z');
  const annFile = recordingFileName('ann', annStart, 'opus');
  const annId = await createRecording(db, { ownerId: ann, fileName: annFile, rawFileName: null, startedAt: annStart.toISOString(), sampleRate: 48000, engine: 'rnnoise' });
  const live = OggOpusRecorder.open(path.join(recordingsDir, annFile));
  tone(220, live); // 2.2 s: 2.0 s in pages, 0.2 s only in memory (lost with the process)
  const pagesOnDisk = readFileSync(path.join(recordingsDir, annFile));
  const kept = lastPage(pagesOnDisk);
  appendFileSync(path.join(recordingsDir, annFile), pagesOnDisk.subarray(pagesOnDisk.length - 300, pagesOnDisk.length - 100)); // a torn write

  // bob's process died between creating the files and inserting the row.
  const bobStart = new Date('2026-12-07T07:00:00.000Z');
  const bobFile = recordingFileName('bob', bobStart, 'opus');
  const bobRaw = bobFile.replace(/\.opus$/, '.raw.opus');
  for (const name of [bobFile, bobRaw]) {
    const r = OggOpusRecorder.open(path.join(recordingsDir, `tmp-${name}`), { peaks: false });
    tone(100, r);
    r.close();
    copyFileSync(path.join(recordingsDir, `tmp-${name}`), path.join(recordingsDir, name));
    rmSync(path.join(recordingsDir, `tmp-${name}`));
  }
  // An old WAV recording crashed alongside.
  const wavFile = recordingFileName('bob', new Date('2026-12-06T07:00:00.000Z'));
  const wav = WavRecorder.open(path.join(recordingsDir, wavFile), 48_000);
  tone(100, wav);

  const report = await recoverRecordings({ db, recordingsDir, notifier: new Notifier(db, bus, { isOnline: async () => false }), log });

  const annBytes = readFileSync(path.join(recordingsDir, annFile));
  assert.equal(annBytes.length, kept.end, 'the torn page is cut');
  const last = lastPage(annBytes);
  assert.equal(last.flags & OGG_EOS, OGG_EOS, 'the last whole page ends the stream');
  assert.equal(last.granule, kept.granule);
  const annRow = (await getRecording(db, annId))!;
  const info = await readOggOpusInfo(path.join(recordingsDir, annFile));
  assert.equal(annRow.status, 'recovered');
  assert.equal(annRow.size_bytes, annBytes.length);
  assert.equal(annRow.duration_ms, Math.round((info.samples / 48_000) * 1000));
  assert.ok(annRow.duration_ms >= 1900 && annRow.duration_ms <= 2000, `${annRow.duration_ms} ms recovered of 2.2 s`);

  const bobRows = (await listVisibleRecordings(db, bob, { ownerId: bob, limit: 10 })).recordings;
  const orphan = bobRows.find((r) => r.file_name === bobFile);
  assert.ok(orphan, 'the orphan .opus is registered');
  assert.deepEqual({ raw: orphan.raw_file_name, status: orphan.status, ms: orphan.duration_ms }, { raw: bobRaw, status: 'recovered', ms: 1000 });
  const wavRow = bobRows.find((r) => r.file_name === wavFile);
  assert.ok(wavRow && wavRow.status === 'recovered' && wavRow.duration_ms === 1000, 'the WAV recording is recovered as before');

  assert.deepEqual(report.skipped, [], 'nothing (no .peaks file) was taken for a foreign recording');
  assert.ok(readdirSync(recordingsDir).includes(path.basename(peaksPathFor(annFile))), 'the peaks file stays');
  assert.equal(report.recovered.length, 3);
  live.close();
  wav.close();
});
