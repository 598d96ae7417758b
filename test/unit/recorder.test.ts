import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import wavefile from 'wavefile';
import { FLUSH_MS, WavRecorder } from '../../src/media/recording/recorder.js';
import { parseWavHeader } from '../../src/media/recording/wav.js';

const RATE = 48000;
const HOP = 480;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-recorder-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
const fresh = () => path.join(tmp, `r${seq++}.wav`);

/** Deterministic pseudo-random audio in [-1, 1] with some clipping-range values. */
function signal(samples: number, seed = 1): Float32Array {
  const out = new Float32Array(samples);
  let x = seed;
  for (let i = 0; i < samples; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = (x / 2147483648) * 2.2 - 1.1;
  }
  return out;
}

function readSamples(file: string): { header: ReturnType<typeof parseWavHeader>; samples: Int16Array; length: number } {
  const bytes = readFileSync(file);
  const header = parseWavHeader(bytes);
  const data = bytes.subarray(header.dataOffset, header.dataOffset + header.dataSize);
  const samples = new Int16Array(data.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  return { header, samples, length: bytes.length };
}

function assertMatchesInput(samples: Int16Array, input: Float32Array): void {
  for (let i = 0; i < samples.length; i++) {
    const expected = Math.max(-1, Math.min(1, input[i]!));
    const err = Math.abs(samples[i]! / 32767 - expected);
    if (err > 0.5 / 32767 + 1e-7) assert.fail(`sample ${i}: ${samples[i]} vs input ${input[i]} (error ${err})`);
  }
}

test('a closed recording lasts exactly the audio written and every sample equals the input within 16-bit quantization', () => {
  const file = fresh();
  const input = signal(RATE * 2 + 17 * HOP + 123);
  const rec = WavRecorder.open(file, RATE);
  // 10 ms hops, then an odd-sized tail, as a pipeline might deliver.
  let i = 0;
  for (; i + HOP <= input.length; i += HOP) rec.write(input.subarray(i, i + HOP));
  rec.write(input.subarray(i));
  const result = rec.close();
  const { header, samples, length } = readSamples(file);
  assert.equal(samples.length, input.length);
  assert.equal(result.durationMs, Math.round((input.length / RATE) * 1000));
  assert.equal(result.sizeBytes, length);
  assert.equal(statSync(file).size, 44 + input.length * 2);
  assert.deepEqual({ complete: result.complete, error: result.error, sampleRate: result.sampleRate }, { complete: true, error: null, sampleRate: RATE });
  assert.equal(header.riffSize, length - 8);
  assertMatchesInput(samples, input);
  // An independent reader agrees on format and sample values.
  const wf = new wavefile.WaveFile(readFileSync(file));
  assert.equal((wf.fmt as { sampleRate: number }).sampleRate, RATE);
  assert.equal((wf.getSamples(false, Int16Array) as unknown as Int16Array)[1000], samples[1000]);
});

test('100 hops of 10 ms make a recording of exactly 1000 ms', () => {
  const rec = WavRecorder.open(fresh(), RATE);
  const hop = signal(HOP);
  for (let k = 0; k < 100; k++) rec.write(hop);
  assert.equal(rec.close().durationMs, 1000);
});

test('without close, the file on disk is a valid WAV covering all but at most the last flush interval', () => {
  const file = fresh();
  const rec = WavRecorder.open(file, RATE);
  const hop = signal(HOP, 7);
  for (let seconds = 1; seconds <= 5; seconds++) {
    for (let k = 0; k < 100; k++) rec.write(hop);
    const { header, length } = readSamples(file);
    const onDiskMs = (header.dataSize / 2 / RATE) * 1000;
    assert.ok(onDiskMs >= seconds * 1000 - FLUSH_MS, `after ${seconds} s only ${onDiskMs} ms on disk`);
    assert.ok(onDiskMs >= (seconds - 1) * 1000);
    assert.equal(length, 44 + header.dataSize, 'header sizes match the file length (playable as is)');
    assert.equal(header.riffSize, length - 8);
  }
  rec.close();
});

test('close is idempotent and writes after close are ignored', () => {
  const file = fresh();
  const rec = WavRecorder.open(file, RATE);
  rec.write(signal(HOP));
  const first = rec.close();
  rec.write(signal(HOP));
  assert.deepEqual(rec.close(), first);
  assert.equal(statSync(file).size, 44 + HOP * 2);
});

test('open refuses an unwritable folder with an Error naming the file and the reason', () => {
  const notADir = path.join(tmp, 'plain-file');
  writeFileSync(notADir, 'x');
  const target = path.join(notADir, 'sub', 'x.wav');
  assert.throws(() => WavRecorder.open(target, RATE), (err: Error) => {
    assert.match(err.message, /cannot create recording file/);
    assert.ok(err.message.includes(target));
    assert.match(err.message, /ENOTDIR|EEXIST/);
    return true;
  });
});

test('open never overwrites an existing recording', () => {
  const file = fresh();
  writeFileSync(file, 'precious');
  assert.throws(() => WavRecorder.open(file, RATE), /EEXIST/);
  assert.equal(readFileSync(file, 'utf8'), 'precious');
});

test('open creates a missing recordings folder', () => {
  const file = path.join(tmp, 'deep', 'er', 'x.wav');
  WavRecorder.open(file, RATE).close();
  assert.equal(statSync(file).size, 44);
});

test('a full disk stops recording without throwing, reports once, and leaves a playable file of what was written', () => {
  // A 64 KiB tmpfs in a private mount namespace fills after about 0.7 s of audio.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const recorderModule = path.resolve(here, '../../src/media/recording/recorder.ts');
  const mountPoint = mkdtempSync(path.join(tmp, 'full-'));
  const child = `
    import { WavRecorder } from ${JSON.stringify(recorderModule)};
    import { readFileSync } from 'node:fs';
    const file = ${JSON.stringify(path.join(mountPoint, 'x.wav'))};
    const rec = WavRecorder.open(file, ${RATE});
    const messages = [];
    rec.onError = (m) => messages.push(m);
    const hop = new Float32Array(${HOP});
    let threw = null;
    try {
      for (let k = 0; k < 300; k++) { hop.fill(((k % 200) - 100) / 101); rec.write(hop); }
    } catch (e) { threw = String(e); }
    const result = rec.close();
    const bytes = readFileSync(file);
    console.log(JSON.stringify({ messages, threw, result, error: rec.error, fileHex: bytes.toString('hex') }));
  `;
  const flags = process.getuid?.() === 0 ? ['-m'] : ['-r', '-m'];
  let out: string;
  try {
    out = execFileSync(
      'unshare',
      [...flags, 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "$1" && exec "$2" --import tsx --input-type=module -e "$3"`, 'sh', mountPoint, process.execPath, child],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
  } catch (err) {
    assert.fail(`needs unshare -m and tmpfs mounts (util-linux; run as root or allow user namespaces): ${String(err)}`);
  }
  const r = JSON.parse(out) as {
    messages: string[];
    threw: string | null;
    result: { durationMs: number; sizeBytes: number; complete: boolean; error: string };
    error: string;
    fileHex: string;
  };
  assert.equal(r.threw, null);
  assert.equal(r.messages.length, 1);
  assert.match(r.messages[0]!, /disk full \(ENOSPC\)/);
  assert.equal(r.error, r.messages[0]);
  assert.equal(r.result.complete, false);
  assert.equal(r.result.error, r.messages[0]);
  const bytes = Buffer.from(r.fileHex, 'hex');
  const header = parseWavHeader(bytes);
  assert.equal(bytes.length, 44 + header.dataSize, 'header finalized to the bytes on disk');
  assert.equal(header.riffSize, bytes.length - 8);
  assert.equal(r.result.sizeBytes, bytes.length);
  assert.ok(r.result.durationMs >= 300 && r.result.durationMs < 3000, `kept ${r.result.durationMs} ms`);
  assert.equal(r.result.durationMs, Math.round((header.dataSize / 2 / RATE) * 1000));
  for (let i = 0; i < header.dataSize / 2; i++) {
    const k = Math.floor(i / HOP);
    assert.equal(bytes.readInt16LE(44 + i * 2), Math.round((((k % 200) - 100) / 101) * 32767), `sample ${i}`);
  }
});

test('another I/O error (file size limit, EFBIG) stops recording once, and a throwing onError listener does not make write() throw', () => {
  // A real kernel error without a special file system: RLIMIT_FSIZE of 64 KiB, SIGXFSZ ignored.
  const recorderModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/media/recording/recorder.ts');
  const file = path.join(tmp, 'limited.wav');
  const child = `
    import { WavRecorder } from ${JSON.stringify(recorderModule)};
    const rec = WavRecorder.open(${JSON.stringify(file)}, ${RATE}, { flushMs: 100 });
    let calls = 0;
    rec.onError = () => { calls++; throw new Error('faulty listener'); };
    console.error = () => {};
    let threw = null;
    const hop = new Float32Array(${HOP}).fill(0.5);
    try { for (let k = 0; k < 300; k++) rec.write(hop); } catch (e) { threw = String(e); }
    console.log(JSON.stringify({ calls, threw, error: rec.error, result: rec.close() }));
  `;
  const out = execFileSync('bash', ['-c', `trap '' XFSZ; ulimit -f 64; exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, child], { encoding: 'utf8' });
  const r = JSON.parse(out) as { calls: number; threw: string | null; error: string; result: { complete: boolean; sizeBytes: number; durationMs: number } };
  assert.equal(r.threw, null);
  assert.equal(r.calls, 1);
  assert.match(r.error, /EFBIG/);
  assert.equal(r.result.complete, false);
  const bytes = readFileSync(file);
  assert.equal(bytes.length, r.result.sizeBytes);
  assert.ok(bytes.length <= 64 * 1024);
  assert.equal(parseWavHeader(bytes).dataSize, bytes.length - 44, 'finalized at the last good length');
});

test('ten minutes of audio through the recorder keep memory flat (RSS growth < 20 MB)', () => {
  const rec = WavRecorder.open(fresh(), RATE);
  const hop = signal(HOP, 3);
  const before = process.memoryUsage().rss;
  for (let k = 0; k < 60_000; k++) rec.write(hop);
  const grown = process.memoryUsage().rss - before;
  const result = rec.close();
  assert.equal(result.durationMs, 600_000);
  assert.ok(grown < 20 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
});
