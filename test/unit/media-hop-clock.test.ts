// The worker clock's lateness accounting, which bench:streams reads: a hop that
// ends after the next hop was due is late, and a late hop that overlapped a
// garbage-collection pause of its thread is attributed to GC.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { countOverlapping, HopClock } from '../../src/media/workers/hop-clock.js';

setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

test('countOverlapping counts the windows of the first list that touch any window of the second', () => {
  assert.equal(countOverlapping([0, 10, 20, 30, 40, 50], [5, 6, 45, 60]), 2);
  assert.equal(countOverlapping([0, 10], [10, 11]), 0, 'touching ends do not overlap');
  assert.equal(countOverlapping([0, 10, 20, 30], []), 0);
  assert.equal(countOverlapping([], [0, 100]), 0);
});

test('a hop that runs past the next deadline is late; one that paused for GC is counted as such', async () => {
  let n = 0;
  const clock = new HopClock(() => {
    n++;
    if (n === 3) {
      forceGc(); // a full collection inside the hop…
      spin(15); // …and a hop longer than the 10 ms period either way
    }
    if (n === 8) spin(15); // late with no GC of ours
  });
  clock.start();
  while (n < 14) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50)); // GC entries are delivered after the pause
  const stats = clock.stats();
  clock.stop();
  assert.ok(stats.lateHops >= 2, `late hops ${stats.lateHops}`);
  assert.ok(stats.gcPauses >= 1, 'the forced collection was observed');
  assert.ok(stats.lateHopsDuringGc >= 1, 'the hop that collected is attributed to GC');
  assert.ok(stats.lateHopsDuringGc <= stats.lateHops);
  assert.ok(stats.maxLatenessMs >= 4, `lateness ${stats.maxLatenessMs} ms`);

  clock.resetStats();
  const reset = clock.stats();
  assert.deepEqual([reset.lateHops, reset.lateHopsDuringGc, reset.gcPauses], [0, 0, 0]);
});
