// Issue 4: "10 minutes of audio pushed through a session faster than real time
// keeps server memory flat (RSS growth < 20 MB); a long stream never holds its
// audio in memory". A real StreamSession (jitter buffer, Opus decode, engine
// `none`, recorder, Opus encode) driven hop by hop on a virtual clock, the way
// the media worker drives it, with Opus packets fed where werift delivers them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runTenMinuteSession } from '../support/ten-minute-session.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-session-mem-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('ten minutes of audio through a session faster than real time keep RSS growth under 20 MB and are all recorded', async (t) => {
  const file = path.join(tmp, 'ann_20260101T000000_000Z.wav');
  const { summary, failures, rssGrowthBytes: grown, wallMs } = await runTenMinuteSession({ filePath: file, rawFilePath: null });
  t.diagnostic(`RSS growth over 580 s of audio: ${(grown / 1048576).toFixed(1)} MB; ${(wallMs / 1000).toFixed(1)} s wall for 600 s of audio`);
  assert.deepEqual(failures, []);
  assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
  assert.equal(summary.recording?.durationMs, 600_000);
  assert.equal(summary.recording?.complete, true);
  assert.equal(statSync(file).size, 44 + 600 * 96_000);
});
