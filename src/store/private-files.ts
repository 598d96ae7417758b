// DATA_DIR holds password hashes, session ids and private audio: its folders
// are 0700 and its files 0600 whatever the process umask (a umask only ever
// removes bits, so each path is chmod-ed after it is created).
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` and missing parents 0700. An existing folder is left as it is unless `tighten`
 * (hushcast's own folders, e.g. recordings/): DATABASE_URL may name a file in a shared folder.
 */
export function ensurePrivateDir(dir: string, opts: { tighten?: boolean } = {}): void {
  const first = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (opts.tighten) chmodSync(dir, PRIVATE_DIR_MODE);
  if (first === undefined) return;
  // Every level this call created, from `dir` up to the first one.
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chmodSync(d, PRIVATE_DIR_MODE);
    if (d === path.resolve(first) || d === path.dirname(d)) break;
  }
}

/** Creates `file` empty if missing and makes it 0600; also `file-wal` and `file-shm` when they exist (SQLite copies the database file's mode to them). */
export function ensurePrivateSqliteFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
  for (const companion of [`${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    if (existsSync(companion)) chmodSync(companion, PRIVATE_FILE_MODE);
  }
}
