import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import wavefile from 'wavefile';
import { PROJECT_ROOT } from '../../src/config.js';
import { decodeWavTo48kMono } from '../../src/denoise/audio-file.js';
import { dfnModelDir, loadSharedAudio, mixAtSnr } from '../support/dfn-audio.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-dfn-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'denoise', 'cli.ts'), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, DFN_MODEL_DIR: dfnModelDir() },
    timeout: 120_000,
  });
  return { code: r.status, err: r.stderr };
}

/** Lag (in samples, within ±maxLag) at which b best matches a. */
function bestLag(a: Float32Array, b: Float32Array, maxLag: number): number {
  let best = 0;
  let bestVal = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let acc = 0;
    for (let i = Math.max(0, lag); i < Math.min(a.length, b.length + lag); i++) acc += a[i - lag]! * b[i]!;
    if (acc > bestVal) {
      bestVal = acc;
      best = lag;
    }
  }
  return best;
}

test('denoise CLI turns a 44.1 kHz stereo WAV into a 48 kHz mono WAV of the same duration, aligned with the input', async () => {
  const { noisy } = mixAtSnr(await loadSharedAudio('clean_freesound_33711.wav'), await loadSharedAudio('noise_freesound_573577.wav'), 5);
  // 3 s of the mixture at 44.1 kHz, stereo (left = right), written as 16-bit PCM.
  const src = new wavefile.WaveFile();
  src.fromScratch(1, 48_000, '32f', noisy.subarray(48_000, 48_000 * 4));
  src.toSampleRate(44_100);
  const mono = src.getSamples(false, Float64Array) as unknown as Float64Array;
  const stereo = new wavefile.WaveFile();
  stereo.fromScratch(2, 44_100, '16', [Int16Array.from(mono, (x) => x * 32767), Int16Array.from(mono, (x) => x * 32767)]);
  const input = path.join(tmp, 'in.wav');
  const output = path.join(tmp, 'out.wav');
  writeFileSync(input, stereo.toBuffer());

  const r = cli([input, output, '--engine', 'dfn3']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /44100 Hz, 2 ch, 3\.0 s → engine dfn3/);
  const out = decodeWavTo48kMono(readFileSync(output));
  assert.equal(out.sampleRate, 48_000);
  assert.equal(out.channels, 1);
  const expected = decodeWavTo48kMono(readFileSync(input)).samples;
  assert.ok(Math.abs(out.samples.length - 3 * 48_000) <= 2, `length ${out.samples.length}`);
  // Aligned: the denoised output lines up with the input at lag 0 (its 30 ms delay removed).
  assert.equal(bestLag(expected, out.samples, 2000), 0);
  assert.equal(out.samples.length, expected.length);
});

test('denoise CLI rejects bad arguments with its usage and exit code 2', () => {
  const r = cli(['only-one.wav']);
  assert.equal(r.code, 2);
  assert.match(r.err, /usage: npm run denoise -- IN\.wav OUT\.wav/);
  assert.equal(cli(['a.wav', 'b.wav', '--engine', 'magic']).code, 2);
  assert.equal(cli(['a.wav', 'b.wav', '--atten-lim=-3']).code, 2);
});
