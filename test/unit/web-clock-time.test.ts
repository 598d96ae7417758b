// The time of day shown as "Live since …" reads as people write it: no zero-padded hour.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clockTime } from '../../web/src/time-ago.js';

test('a morning time in en-US has no leading zero on the hour', () => {
  const iso = new Date(2026, 11, 7, 5, 37).toISOString();
  assert.match(clockTime(iso, 'en-US'), /^5:37\s?AM$/);
});

test('an afternoon time in en-US keeps the 12-hour clock and two-digit minutes', () => {
  const iso = new Date(2026, 11, 7, 17, 5).toISOString();
  assert.match(clockTime(iso, 'en-US'), /^5:05\s?PM$/);
});

test('a 24-hour locale shows 17:05, and nonsense input shows nothing', () => {
  assert.equal(clockTime(new Date(2026, 11, 7, 17, 5).toISOString(), 'de-DE'), '17:05');
  assert.equal(clockTime('not a date', 'en-US'), '');
});
