import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { loadDfn3Runtime } from '../../src/denoise/dfn/runtime.js';
import { DfnModelError } from '../../src/denoise/dfn/model-files.js';
import { loadEngineRuntime } from '../../src/denoise/engines.js';
import { dfnModelDir } from '../support/dfn-audio.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-dfn-fallback-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A model directory like the real one, with `file` replaced by `bytes`. */
function modelDirWith(name: string, file: string, bytes: Buffer): string {
  const dir = path.join(tmp, name);
  const src = dfnModelDir();
  mkdirSync(dir);
  for (const f of ['enc.onnx', 'erb_dec.onnx', 'df_dec.onnx', 'config.ini']) {
    if (f === file) writeFileSync(path.join(dir, f), bytes);
    else symlinkSync(path.join(src, f), path.join(dir, f));
  }
  return dir;
}

async function loadVia(modelDir: string) {
  const warnings: { obj: object; msg: string }[] = [];
  const config = loadConfig({ DATA_DIR: tmp, DFN_MODEL_DIR: modelDir });
  const r = await loadEngineRuntime('dfn3', config, { warn: (obj, msg) => warnings.push({ obj, msg }) });
  await r.runtime.close();
  return { ...r, warnings };
}

test('dfn3 loads from a good model directory with no fallback', async () => {
  const r = await loadVia(dfnModelDir());
  assert.equal(r.runtime.engine, 'dfn3');
  assert.equal(r.fallbackReason, null);
  assert.equal(r.warnings.length, 0);
});

test('a missing model directory falls back to rnnoise with a warning that says what to do', async () => {
  const r = await loadVia(path.join(tmp, 'does-not-exist'));
  assert.equal(r.runtime.engine, 'rnnoise');
  assert.match(r.fallbackReason ?? '', /does not exist.*models:fetch/);
  assert.equal(r.warnings.length, 1);
});

test('a truncated graph falls back to rnnoise naming the file and its wrong hash', async () => {
  const full = readFileSync(path.join(dfnModelDir(), 'enc.onnx'));
  const dir = modelDirWith('truncated', 'enc.onnx', full.subarray(0, full.length >> 1));
  const r = await loadVia(dir);
  assert.equal(r.runtime.engine, 'rnnoise');
  assert.match(r.fallbackReason ?? '', /enc\.onnx has SHA-256 .* expected 7c5399d3/);
  assert.equal(r.warnings.length, 1);
});

test('a graph with a wrong hash falls back to rnnoise', async () => {
  const bytes = Buffer.concat([readFileSync(path.join(dfnModelDir(), 'df_dec.onnx')), Buffer.from([0])]);
  const r = await loadVia(modelDirWith('wrong-hash', 'df_dec.onnx', bytes));
  assert.equal(r.runtime.engine, 'rnnoise');
  assert.match(r.fallbackReason ?? '', /df_dec\.onnx has SHA-256/);
});

test('without the hash check, a truncated or foreign graph is refused with a clear error, never a crash', async () => {
  const full = readFileSync(path.join(dfnModelDir(), 'erb_dec.onnx'));
  const truncated = modelDirWith('truncated-unverified', 'erb_dec.onnx', full.subarray(0, 1000));
  await assert.rejects(loadDfn3Runtime(truncated, { verify: false }), (e: unknown) => e instanceof DfnModelError && /erb_dec\.onnx/.test(e.message));
  // df_dec in the place of enc: readable ONNX, but not the export the rewrite understands.
  const swapped = modelDirWith('swapped', 'enc.onnx', readFileSync(path.join(dfnModelDir(), 'df_dec.onnx')));
  await assert.rejects(loadDfn3Runtime(swapped, { verify: false }), (e: unknown) => e instanceof DfnModelError && /enc\.onnx: missing input "feat_erb"/.test(e.message));
});

test('a config.ini for another hop size is refused with a clear error', async () => {
  const ini = readFileSync(path.join(dfnModelDir(), 'config.ini'), 'utf8').replace('hop_size = 480', 'hop_size = 240').replace('fft_size = 960', 'fft_size = 480');
  const dir = modelDirWith('other-hop', 'config.ini', Buffer.from(ini));
  await assert.rejects(loadDfn3Runtime(dir), /240-sample hops/);
});
