// DATA_DIR content is private whatever the umask: folders 0700, files 0600
// (database with its -wal/-shm, recordings, session secret). Runs under umask
// 000, the most permissive, with the real app, SQLite and recorder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadOrCreateSessionSecret } from '../../src/control/session-secret.js';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { Client, startTestApp } from '../support/test-app.js';

const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);

let root: string;
let oldUmask: number;
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'hc-modes-'));
  oldUmask = process.umask(0o000);
});
after(() => {
  process.umask(oldUmask);
  rmSync(root, { recursive: true, force: true });
});

test('under umask 000 the data folder, recordings folder, database and its -wal/-shm files are 0700/0600', async () => {
  const dataDir = path.join(root, 'data');
  const db = path.join(dataDir, 'hushcast.db');
  const t = await startTestApp({ dataDir, recordingsDir: path.join(dataDir, 'recordings'), databaseUrl: `sqlite:${db}` });
  try {
    await new Client(t.base).signup('modes_user');
    assert.deepEqual(
      { dataDir: mode(dataDir), recordings: mode(path.join(dataDir, 'recordings')), db: mode(db), wal: mode(`${db}-wal`), shm: mode(`${db}-shm`) },
      { dataDir: '700', recordings: '700', db: '600', wal: '600', shm: '600' },
    );
  } finally {
    await t.close();
  }
});

test('under umask 000 a recording file is 0600 in a new 0700 folder, and a generated session secret is 0600', () => {
  const rec = WavRecorder.open(path.join(root, 'rec', 'someone.wav'), 48_000);
  rec.write(new Float32Array(480));
  rec.close();
  assert.deepEqual([mode(path.join(root, 'rec')), mode(path.join(root, 'rec', 'someone.wav'))], ['700', '600']);
  loadOrCreateSessionSecret(path.join(root, 'secret-dir'));
  assert.deepEqual([mode(path.join(root, 'secret-dir')), mode(path.join(root, 'secret-dir', 'session-secret'))], ['700', '600']);
});
