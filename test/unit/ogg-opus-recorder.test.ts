// Issue 19: recordings as Ogg Opus written as the stream goes. Real files, the real
// libopus encoder; decoded here with our streaming reader (Chromium decodes them in
// test/e2e/recordings-opus.test.ts).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { checkOggPage, OGG_BOS, OGG_EOS, oggCrc, parseOggPageHeader } from '../../src/media/recording/ogg.js';
import { decodeOggOpus, readOggOpusInfo } from '../../src/media/recording/ogg-opus-file.js';
import { OggOpusRecorder, peaksPathFor } from '../../src/media/recording/ogg-opus-recorder.js';
import { OggOpusFormatError, repairOggOpus } from '../../src/media/recording/ogg-opus-repair.js';
import { parseOpusHead } from '../../src/media/recording/opus-head.js';
import { OpusEncoder } from '../../src/media/session/opus-encoder.js';

const RATE = 48_000;
const HOP = 480;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-ogg-opus-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(tmp, `rec-${n++}.opus`);

/** A 220 → 1800 Hz chirp with a slow loudness wobble: no two stretches alike, never silent. */
function chirp(samples: number): Float32Array {
  const out = new Float32Array(samples);
  const seconds = samples / RATE;
  for (let i = 0; i < samples; i++) {
    const t = i / RATE;
    out[i] = (0.25 + 0.1 * Math.sin(2 * Math.PI * 1.3 * t)) * Math.sin(2 * Math.PI * (220 * t + ((1800 - 220) / (2 * seconds)) * t * t));
  }
  return out;
}

function writeFrames(rec: { write(f: Float32Array): void }, signal: Float32Array): void {
  for (let at = 0; at + HOP <= signal.length; at += HOP) rec.write(signal.subarray(at, at + HOP));
}

interface Page {
  at: number;
  flags: number;
  granule: number;
  sequence: number;
  length: number;
  packets: number;
}

function pages(bytes: Buffer): Page[] {
  const out: Page[] = [];
  for (let at = 0; at < bytes.length; ) {
    const h = parseOggPageHeader(bytes, at);
    assert.ok(h !== null && h !== 'corrupt', `page header at ${at}`);
    assert.ok(checkOggPage(bytes, at, h.pageLength), `CRC of the page at ${at}`);
    let packets = 0;
    for (let s = 0; s < h.segments; s++) if (bytes[at + 27 + s]! < 255) packets++;
    out.push({ at, flags: h.flags, granule: h.granule, sequence: h.sequence, length: h.pageLength, packets });
    at += h.pageLength;
  }
  return out;
}

async function decodeAll(file: string): Promise<Int16Array> {
  const info = await readOggOpusInfo(file);
  const chunks: Buffer[] = [];
  for await (const c of decodeOggOpus(file, info)) chunks.push(Buffer.from(c));
  const all = Buffer.concat(chunks);
  return new Int16Array(all.buffer, all.byteOffset, all.length / 2);
}

function correlation(a: Float32Array, b: Int16Array, lag: number, from: number, to: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = from; i < to; i++) {
    const x = a[i]!;
    const y = b[i + lag]! / 32768;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return ab / Math.sqrt(aa * bb || 1);
}

test('the Ogg CRC is CRC-32 with polynomial 0x04C11DB7, unreflected, initial value 0 and no final xor (check value of "123456789")', () => {
  // CRC-32/CKSUM's check value is 0x765E7680 with a final xor of all ones.
  assert.equal(oggCrc(Buffer.from('123456789'), 0, 9), ~0x765e7680 >>> 0);
});

test('a recording decodes to exactly the samples written, aligned with the input: pre-skip is the encoder lookahead and the last granule is pre-skip + samples', async () => {
  const file = fresh();
  const input = chirp(237 * HOP); // 2.37 s: ends on a 10 ms frame, not a 20 ms packet
  const rec = OggOpusRecorder.open(file);
  writeFrames(rec, input);
  const result = rec.close();
  assert.equal(result.complete, true);
  assert.equal(result.durationMs, 2370);
  const bytes = readFileSync(file);
  assert.equal(result.sizeBytes, bytes.length);
  const ps = pages(bytes);
  assert.equal(ps[0]!.flags, OGG_BOS);
  const head = parseOpusHead(bytes.subarray(ps[0]!.at + 28, ps[0]!.at + ps[0]!.length));
  assert.equal(head.preSkip, new OpusEncoder().lookahead);
  assert.equal(head.channels, 1);
  assert.equal(ps.at(-1)!.flags, OGG_EOS, 'only the last page ends the stream');
  assert.equal(ps.at(-1)!.granule, head.preSkip + input.length);
  assert.deepEqual(ps.map((p) => p.sequence), ps.map((_, i) => i));
  const info = await readOggOpusInfo(file);
  assert.equal(info.samples, input.length);

  const decoded = await decodeAll(file);
  assert.equal(decoded.length, input.length, 'duration exact to the sample');
  // Pre-skip removes the codec delay: the best alignment is lag 0.
  let best = { lag: NaN, r: -1 };
  for (let lag = -40; lag <= 40; lag++) {
    const r = correlation(input, decoded, lag, 1000, input.length - 1000);
    if (r > best.r) best = { lag, r };
  }
  assert.equal(best.lag, 0);
  assert.ok(best.r > 0.97, `correlation ${best.r.toFixed(4)}`);
  // ...up to the very end: the last `preSkip` samples came out of the closing packet of silence,
  // which flushed the encoder's lookahead (without it they would be missing or zeros). A hard
  // stop smears a little (CELT's transient coding), so the bar is lower than for the body.
  const tail = input.length - head.preSkip;
  const tailR = correlation(input, decoded, 0, tail, input.length);
  let inE = 0;
  let outE = 0;
  for (let i = tail; i < input.length; i++) {
    inE += input[i]! ** 2;
    outE += (decoded[i]! / 32768) ** 2;
  }
  assert.ok(tailR > 0.6 && outE > 0.5 * inE, `the last ${head.preSkip} samples are the input (correlation ${tailR.toFixed(3)}, energy ratio ${(outE / inE).toFixed(2)})`);
});

test('pages reach the disk at least every 0.5 s of audio, each holding whole packets, while the recording is still open', () => {
  const file = fresh();
  const rec = OggOpusRecorder.open(file);
  writeFrames(rec, chirp(130 * HOP)); // 1.3 s, not closed
  const bytes = readFileSync(file);
  const audio = pages(bytes).slice(2);
  assert.ok(audio.length >= 2, `${audio.length} audio pages on disk`);
  let prev = 312;
  for (const p of audio) {
    assert.ok(p.granule - prev <= RATE / 2, `a page of ${p.granule - prev} samples`);
    prev = p.granule;
  }
  assert.ok(prev - 312 >= 1.3 * RATE - RATE / 2, `on disk up to ${(prev - 312) / RATE} s of 1.3 s`);
  rec.close();
});

test('packets from a shared live encoder are stored as they are, 10 and 20 ms mixed, with granules counting their samples', () => {
  const file = fresh();
  const encoder = new OpusEncoder();
  const rec = OggOpusRecorder.open(file, { sharedEncoder: encoder });
  const signal = chirp(RATE);
  const packets: Buffer[] = [];
  let at = 0;
  for (let k = 0; at < signal.length; k++) {
    const size = k % 3 === 0 ? 480 : 960;
    for (let f = at; f < at + size; f += HOP) rec.write(signal.subarray(f, f + HOP));
    const p = encoder.encode(signal.subarray(at, at + size), size);
    packets.push(p);
    rec.writePacket(p, size);
    at += size;
  }
  const r = rec.close();
  encoder.close();
  assert.equal(r.durationMs, 1000);
  const bytes = readFileSync(file);
  // Every live packet appears byte for byte, in order.
  let from = 0;
  for (const p of packets) {
    const i = bytes.indexOf(p, from);
    assert.ok(i >= 0, 'packet stored unchanged');
    from = i + p.length;
  }
  assert.equal(pages(bytes).at(-1)!.granule, 312 + RATE);
});

test('peaks are written beside the recording as it goes: one byte per 10 ms, the frame peak × 255 rounded up', () => {
  const file = fresh();
  const rec = OggOpusRecorder.open(file);
  const frame = new Float32Array(HOP);
  for (let k = 0; k < 120; k++) {
    frame.fill(0);
    frame[k % HOP] = k % 2 === 0 ? k / 200 : -k / 200;
    rec.write(frame);
  }
  const onDisk = readFileSync(peaksPathFor(file));
  assert.ok(onDisk.length >= 50, `${onDisk.length} peaks on disk before close`);
  rec.close();
  const peaks = readFileSync(peaksPathFor(file));
  assert.equal(peaks.length, 120);
  for (let k = 0; k < 120; k++) assert.equal(peaks[k], Math.min(255, Math.ceil(Math.fround(k / 200) * 255)), `peak ${k}`);
});

test('repair cuts a torn last page, marks the last whole page end-of-stream, and the file then plays every whole page', async () => {
  const file = fresh();
  const rec = OggOpusRecorder.open(file);
  writeFrames(rec, chirp(170 * HOP)); // 1.7 s: 1.5 s in pages, 0.2 s only in memory
  const crashed = path.join(tmp, 'crashed.opus');
  copyFileSync(file, crashed); // what a SIGKILL leaves on disk
  rec.close();
  const whole = pages(readFileSync(crashed));
  const lastGranule = whole.at(-1)!.granule;
  assert.equal(whole.at(-1)!.flags & OGG_EOS, 0);
  // A torn write: the start of another page.
  const torn = readFileSync(file).subarray(whole.at(-1)!.at, whole.at(-1)!.at + 100);
  appendFileSync(crashed, torn);
  const r = repairOggOpus(crashed);
  assert.equal(r.changed, true);
  assert.equal(r.truncatedBytes, 100);
  assert.equal(r.granule, lastGranule);
  assert.equal(r.samples, lastGranule - 312);
  assert.ok(r.durationMs >= 1400 && r.durationMs <= 1500, `${r.durationMs} ms`);
  const repaired = readFileSync(crashed);
  const ps = pages(repaired);
  assert.equal(ps.length, whole.length);
  assert.equal(ps.at(-1)!.flags, OGG_EOS);
  assert.equal(repaired.length, r.sizeBytes);
  assert.equal((await decodeAll(crashed)).length, r.samples);
  // Repairing again changes nothing, and a cleanly closed file is left byte for byte.
  assert.equal(repairOggOpus(crashed).changed, false);
  const before = readFileSync(file);
  assert.equal(repairOggOpus(file).changed, false);
  assert.deepEqual(readFileSync(file), before);
});

test('a page with a bad CRC ends the stream at the page before it', () => {
  const file = fresh();
  const rec = OggOpusRecorder.open(file);
  writeFrames(rec, chirp(160 * HOP));
  rec.close();
  const bytes = readFileSync(file);
  const ps = pages(bytes);
  const victim = ps[3]!;
  bytes[victim.at + victim.length - 1] ^= 0x55;
  writeFileSync(file, bytes);
  const r = repairOggOpus(file);
  assert.equal(r.sizeBytes, victim.at);
  assert.equal(r.granule, ps[2]!.granule);
  assert.equal(pages(readFileSync(file)).at(-1)!.flags & OGG_EOS, OGG_EOS);
});

test('a file killed before its header pages were whole becomes an empty valid stream; a foreign file is refused and left alone', () => {
  const file = fresh();
  const rec = OggOpusRecorder.open(file);
  rec.close();
  const bytes = readFileSync(file);
  writeFileSync(file, bytes.subarray(0, 30));
  const r = repairOggOpus(file);
  assert.equal(r.durationMs, 0);
  const ps = pages(readFileSync(file));
  assert.equal(ps.length, 2);
  assert.equal(ps[1]!.flags, OGG_EOS);

  const foreign = path.join(tmp, 'foreign.opus');
  writeFileSync(foreign, 'RIFF....WAVE not an ogg file');
  assert.throws(() => repairOggOpus(foreign), OggOpusFormatError);
  assert.equal(readFileSync(foreign, 'utf8'), 'RIFF....WAVE not an ogg file');
});

test('a full disk stops recording without throwing, reports once, and leaves a complete stream of the pages written', async () => {
  // A file size limit of 16 KiB (RLIMIT_FSIZE, SIGXFSZ ignored): a real kernel error (EFBIG) after ~2 s of audio.
  const recorderModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/media/recording/ogg-opus-recorder.ts');
  const file = path.join(tmp, 'limited.opus');
  const child = `
    import { OggOpusRecorder } from ${JSON.stringify(recorderModule)};
    const rec = OggOpusRecorder.open(${JSON.stringify(file)}, { peaks: false });
    let calls = 0;
    rec.onError = () => { calls++; };
    console.error = () => {};
    let threw = null;
    const hop = new Float32Array(480);
    try { for (let k = 0; k < 1000; k++) { for (let i = 0; i < 480; i++) hop[i] = 0.3 * Math.sin((k * 480 + i) / 9); rec.write(hop); } } catch (e) { threw = String(e); }
    console.log(JSON.stringify({ calls, threw, error: rec.error, result: rec.close() }));
  `;
  const out = execFileSync('bash', ['-c', `trap '' XFSZ; ulimit -f 16; exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, child], { encoding: 'utf8' });
  const r = JSON.parse(out) as { calls: number; threw: string | null; error: string; result: { complete: boolean; sizeBytes: number; durationMs: number } };
  assert.equal(r.threw, null);
  assert.equal(r.calls, 1);
  assert.match(r.error, /EFBIG/);
  assert.doesNotMatch(r.error, /not marked/);
  assert.equal(r.result.complete, false);
  const bytes = readFileSync(file);
  assert.equal(bytes.length, r.result.sizeBytes);
  assert.ok(bytes.length <= 16 * 1024);
  const ps = pages(bytes);
  assert.equal(ps.at(-1)!.flags, OGG_EOS, 'the stream is finalized at its last whole page');
  assert.equal(r.result.durationMs, Math.round(((ps.at(-1)!.granule - 312) / RATE) * 1000));
  assert.ok(r.result.durationMs > 500, `kept ${r.result.durationMs} ms`);
  assert.equal((await decodeAll(file)).length, ps.at(-1)!.granule - 312);
  assert.equal(statSync(file).size, bytes.length);
});
