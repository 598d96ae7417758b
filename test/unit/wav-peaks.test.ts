import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { wavPeaks } from '../../src/media/recording/wav-peaks.js';
import { serializeWavHeader } from '../../src/media/recording/wav.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-peaks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('peaks are the largest absolute sample of each equal time span, with the duration', async () => {
  const file = path.join(tmp, 'a.wav');
  const rec = WavRecorder.open(file, 48000);
  // Four 250 ms segments at amplitudes 0.1, 0.5, 0.25 (negative) and 1.
  const amps = [0.1, 0.5, -0.25, 1];
  const seg = new Float32Array(12000);
  for (const a of amps) {
    seg.fill(0);
    seg[6000] = a;
    rec.write(seg);
  }
  rec.close();
  const p = await wavPeaks(file, 4);
  assert.equal(p.durationMs, 1000);
  assert.equal(p.sampleRate, 48000);
  assert.deepEqual(p.peaks, [0.1, 0.5, 0.25, 1]);
  const fine = await wavPeaks(file, 8);
  assert.deepEqual(fine.peaks, [0, 0.1, 0, 0.5, 0, 0.25, 0, 1]);
});

test('a file shorter than the bucket count gives one peak per sample frame; an empty one none', async () => {
  const file = path.join(tmp, 'b.wav');
  const data = Buffer.alloc(6);
  data.writeInt16LE(16384, 0);
  data.writeInt16LE(-32768, 2);
  writeFileSync(file, Buffer.concat([serializeWavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16 }, 6), data]));
  assert.deepEqual((await wavPeaks(file, 100)).peaks, [0.5, 1, 0]);
  const empty = path.join(tmp, 'c.wav');
  writeFileSync(empty, serializeWavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16 }, 0));
  assert.deepEqual(await wavPeaks(empty, 100), { sampleRate: 8000, durationMs: 0, peaks: [] });
});

test('a crashed recording (header sizes lagging) is read to the end of the file', async () => {
  const file = path.join(tmp, 'd.wav');
  const data = Buffer.alloc(8000 * 2);
  data.writeInt16LE(32767, 8000 * 2 - 2);
  writeFileSync(file, Buffer.concat([serializeWavHeader({ sampleRate: 8000, channels: 1, bitsPerSample: 16 }, 0), data]));
  const p = await wavPeaks(file, 2);
  assert.equal(p.durationMs, 1000);
  assert.deepEqual(p.peaks, [0, 1]);
});
