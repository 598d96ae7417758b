import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseByteRange } from '../../src/control/byte-range.js';

const SIZE = 1000;

test('one byte range per request: first bytes, middle, open end, suffix, end past the size', () => {
  assert.deepEqual(parseByteRange('bytes=0-43', SIZE), { start: 0, end: 43 });
  assert.deepEqual(parseByteRange('bytes=100-199', SIZE), { start: 100, end: 199 });
  assert.deepEqual(parseByteRange('bytes=990-', SIZE), { start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-10', SIZE), { start: 990, end: 999 });
  assert.deepEqual(parseByteRange('bytes=-5000', SIZE), { start: 0, end: 999 });
  assert.deepEqual(parseByteRange('bytes=5-5000', SIZE), { start: 5, end: 999 });
  assert.deepEqual(parseByteRange(' Bytes = 7-8 ', SIZE), { start: 7, end: 8 });
});

test('no header, another unit or several ranges mean the whole file (RFC 9110 lets a server ignore Range)', () => {
  assert.equal(parseByteRange(undefined, SIZE), null);
  assert.equal(parseByteRange('items=0-5', SIZE), null);
  assert.equal(parseByteRange('bytes=0-5,10-20', SIZE), null);
});

test('malformed or unsatisfiable ranges are refused (416)', () => {
  for (const h of ['bytes=1000-', 'bytes=1000-1001', 'bytes=5-4', 'bytes=-0', 'bytes=abc', 'bytes=', 'bytes=-', 'bytes=1.5-2', 'bytes=--3']) {
    assert.equal(parseByteRange(h, SIZE), 'unsatisfiable', h);
  }
  assert.equal(parseByteRange('bytes=0-', 0), 'unsatisfiable', 'empty resource');
  assert.equal(parseByteRange('bytes=-1', 0), 'unsatisfiable', 'empty resource, suffix');
});
