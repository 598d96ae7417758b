import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PROJECT_ROOT } from '../../src/config.js';
import { checkModelFiles, extractModelFiles, installModelFiles } from '../../src/denoise/dfn/model-fetch.js';
import { readDfnModel } from '../../src/denoise/dfn/model-files.js';
import { dfnModelDir } from '../support/dfn-audio.js';
import { freePort } from '../support/redis-server.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hc-dfn-fetch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A ustar archive, as the release's tar.gz (files below a folder). */
function tarGz(entries: [string, Buffer][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'latin1');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\x0000', 257, 'latin1');
    h.fill(' ', 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

const files = ['enc.onnx', 'erb_dec.onnx', 'df_dec.onnx', 'config.ini'];
const real = (f: string) => readFileSync(path.join(dfnModelDir(), f));

test('the release archive is unpacked, its graphs verified by SHA-256 and installed where the runtime reads them', async () => {
  const archive = tarGz([['export/README.md', Buffer.from('x')], ...files.map((f) => [`export/${f}`, real(f)] as [string, Buffer])]);
  const found = extractModelFiles(archive);
  assert.deepEqual([...found.keys()].sort(), [...files].sort());
  assert.deepEqual(checkModelFiles(found), []);
  const target = path.join(tmp, 'data', 'models', 'DeepFilterNet3');
  await installModelFiles(found, target);
  const model = await readDfnModel(target);
  assert.equal(model.params.nbErb, 32);
});

test('an archive with a damaged graph or a missing file is reported file by file', () => {
  const damaged = Buffer.from(real('erb_dec.onnx'));
  damaged[1000] = damaged[1000]! ^ 0xff;
  const found = extractModelFiles(tarGz([['a/enc.onnx', real('enc.onnx')], ['a/erb_dec.onnx', damaged], ['a/config.ini', real('config.ini')]]));
  const problems = checkModelFiles(found);
  assert.equal(problems.length, 2);
  assert.match(problems.join('\n'), /df_dec\.onnx is missing/);
  assert.match(problems.join('\n'), /erb_dec\.onnx has SHA-256 .* expected ab669a1d/);
});

function runScript(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'fetch-models.ts'), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATA_DIR: path.join(tmp, 'data2') },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('models:fetch without network fails with exit 1 and says what to do', async () => {
  const port = await freePort(); // nothing listens there any more: the download is refused
  const r = runScript(['--url', `http://127.0.0.1:${port}/DeepFilterNet3_onnx.tar.gz`]);
  assert.equal(r.code, 1);
  assert.match(r.out, /cannot download http:\/\/127\.0\.0\.1:\d+\/DeepFilterNet3_onnx\.tar\.gz: ECONNREFUSED/);
  assert.match(r.out, /What to do:[\s\S]*models:fetch -- --from[\s\S]*DFN_MODEL_DIR[\s\S]*RNNoise/);
  assert.ok(!existsSync(path.join(tmp, 'data2', 'models', 'DeepFilterNet3')), 'nothing half-installed');
});

test('models:fetch --verify accepts the official files and rejects a directory without them', () => {
  assert.equal(runScript(['--verify', dfnModelDir()]).code, 0);
  const bad = runScript(['--verify', tmp]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /enc\.onnx is missing/);
});
