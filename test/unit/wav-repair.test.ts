import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { repairWav } from '../../src/media/recording/wav-repair.js';
import { parseWavHeader, serializeWavHeader, WavFormatError } from '../../src/media/recording/wav.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-repair-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = () => path.join(tmp, `f${seq++}.wav`);
const MONO = { sampleRate: 48000, channels: 1, bitsPerSample: 16 };

function ramp(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (i * 7) & 0xff;
  return b;
}

test('a recording copied mid-stream (as a SIGKILL leaves it) is repaired to cover every byte that reached the disk', () => {
  const live = fresh();
  const rec = WavRecorder.open(live, 48000);
  const hop = new Float32Array(480).map((_, i) => Math.sin(i / 10) * 0.5);
  for (let k = 0; k < 230; k++) rec.write(hop);
  const crashed = fresh();
  copyFileSync(live, crashed);
  // Bytes the next flush would have added, minus a torn half sample: data beyond the header's sizes.
  writeFileSync(crashed, Buffer.concat([readFileSync(crashed), ramp(4801)]));
  rec.close();
  const before = readFileSync(crashed);
  const r = repairWav(crashed);
  const after = readFileSync(crashed);
  const h = parseWavHeader(after);
  assert.equal(r.changed, true);
  assert.equal(r.truncatedBytes, 1);
  assert.equal(h.dataSize, before.length - 1 - 44);
  assert.equal(h.riffSize, after.length - 8);
  assert.equal(r.sizeBytes, after.length);
  assert.equal(r.dataBytes, h.dataSize);
  assert.equal(r.durationMs, Math.round((h.dataSize / 2 / 48000) * 1000));
  assert.deepEqual(after.subarray(44), before.subarray(44, before.length - 1), 'audio bytes untouched');
});

test('a header whose sizes were never written (zeros) gets them from the file length', () => {
  const file = fresh();
  writeFileSync(file, Buffer.concat([serializeWavHeader(MONO, 0), ramp(96000)]));
  const r = repairWav(file);
  assert.deepEqual({ changed: r.changed, dataBytes: r.dataBytes, durationMs: r.durationMs, sampleRate: r.sampleRate }, { changed: true, dataBytes: 96000, durationMs: 1000, sampleRate: 48000 });
  assert.equal(parseWavHeader(readFileSync(file)).dataSize, 96000);
});

test('a partial sample frame is cut to whole frames for multi-channel files too', () => {
  const file = fresh();
  writeFileSync(file, Buffer.concat([serializeWavHeader({ ...MONO, channels: 2 }, 0), ramp(4 * 100 + 3)]));
  const r = repairWav(file);
  assert.equal(r.dataBytes, 400);
  assert.equal(r.truncatedBytes, 3);
  assert.equal(statSync(file).size, 444);
});

test('a finalized file is left byte for byte as it was, trailing chunks included', () => {
  const file = fresh();
  const list = Buffer.from('LIST\x04\x00\x00\x00abcd', 'latin1');
  const bytes = Buffer.concat([serializeWavHeader(MONO, 10), ramp(10), list]);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  writeFileSync(file, bytes);
  const r = repairWav(file);
  assert.equal(r.changed, false);
  assert.equal(r.dataBytes, 10);
  assert.deepEqual(readFileSync(file), bytes);
});

test('a file that died before its header was written becomes an empty valid WAV when the rate is known', () => {
  const file = fresh();
  writeFileSync(file, Buffer.from('RIFF'));
  assert.throws(() => repairWav(file), WavFormatError);
  const r = repairWav(file, { fallbackSampleRate: 48000 });
  assert.deepEqual({ changed: r.changed, dataBytes: r.dataBytes, sizeBytes: r.sizeBytes }, { changed: true, dataBytes: 0, sizeBytes: 44 });
  assert.deepEqual(readFileSync(file), serializeWavHeader(MONO, 0));
});

test('a file that is not a WAV is refused with WavFormatError naming it, and not modified', () => {
  const file = fresh();
  const junk = Buffer.from('this is certainly not a RIFF file, just some text that is long enough');
  writeFileSync(file, junk);
  assert.throws(() => repairWav(file, { fallbackSampleRate: 48000 }), (err: Error) => err instanceof WavFormatError && err.message.includes(file));
  assert.deepEqual(readFileSync(file), junk);
});

test('a header whose RIFF size matches the file but whose data size lags (torn update) is repaired', () => {
  const file = fresh();
  const bytes = Buffer.concat([serializeWavHeader(MONO, 100), ramp(1000)]);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  writeFileSync(file, bytes);
  const r = repairWav(file);
  assert.equal(r.changed, true);
  assert.equal(r.dataBytes, 1000);
  assert.equal(parseWavHeader(readFileSync(file)).dataSize, 1000);
});
