// Issue 19: the same as recorder-session-memory.test.ts with an Ogg Opus recording
// (RECORD_FORMAT=opus): 10 minutes of audio through a session faster than real time
// keep memory flat, and the file holds exactly the 10 minutes, at Opus size. A real StreamSession (jitter buffer, Opus decode, engine
// `none`, recorder, Opus encode) driven hop by hop on a virtual clock, the way
// the media worker drives it, with Opus packets fed where werift delivers them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTenMinuteSession } from '../support/ten-minute-session.js';
import { readOggOpusInfo } from '../../src/media/recording/ogg-opus-file.js';
import { peaksPathFor } from '../../src/media/recording/ogg-opus-recorder.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-session-opus-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('ten minutes of audio through a session with an Opus recording and its raw companion keep RSS growth under 20 MB and are all recorded, exactly, at ≤ 0.6 MB a minute', async (t) => {
  const file = path.join(tmp, 'ann_20260101T000000_000Z.opus');
  // RECORD_RAW follows the format: the un-denoised input, encoded by the raw recorder's own encoder.
  const raw = path.join(tmp, 'ann_20260101T000000_000Z.raw.opus');
  const { summary, failures, rssGrowthBytes: grown, wallMs } = await runTenMinuteSession({ filePath: file, rawFilePath: raw });
  t.diagnostic(`RSS growth over 580 s of audio: ${(grown / 1048576).toFixed(1)} MB; ${(wallMs / 1000).toFixed(1)} s wall for 600 s of audio`);
  assert.deepEqual(failures, []);
  assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
  assert.equal(summary.recording?.durationMs, 600_000);
  assert.equal(summary.recording?.complete, true);
  const info = await readOggOpusInfo(file);
  assert.equal(info.samples, 600 * 48_000, 'exactly ten minutes, to the sample');
  const size = statSync(file).size;
  assert.equal(summary.recording?.sizeBytes, size);
  t.diagnostic(`${(size / 10 / 1e6).toFixed(3)} MB per minute (WAV: 5.760)`);
  assert.ok(size / 10 <= 0.6e6, `${(size / 10 / 1e6).toFixed(3)} MB per minute`);
  assert.equal(readFileSync(peaksPathFor(file)).length, 600 * 100, 'one peak per 10 ms hop');
  assert.equal(summary.recording?.rawFilePath, raw);
  assert.equal((await readOggOpusInfo(raw)).samples, 600 * 48_000, 'the raw companion is Ogg Opus of the same length');
});
