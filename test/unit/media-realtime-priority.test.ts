// Media worker threads ask for SCHED_RR: the thread that asks gets it (when the process may),
// the rest of the process does not, threads it starts later are normal threads again, and
// when it cannot be had the result says why instead of throwing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { currentThreadId, requestRealtimePriority, schedulingOf, type ThreadScheduling } from '../../src/media/workers/realtime-priority.js';

const MODULE = new URL('../../src/media/workers/realtime-priority.ts', import.meta.url).href;
/** Worker code that loads the module (through tsx's loader, as media-worker-boot.mjs does) and posts what `body` returns. */
const workerCode = (body: string) => `
  const { parentPort } = require('node:worker_threads');
  import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(MODULE)}); })
    .then(async (m) => parentPort.postMessage(await (${body})(m)));`;

/** Runs `body` (an async function of the module) in a fresh worker thread and returns what it returns. */
function inWorker<T>(body: string): Promise<T> {
  const code = workerCode(body);
  return new Promise<T>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', (v: T) => {
      resolve(v);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const mayUseRealtime = process.platform === 'linux' && process.getuid?.() === 0;

describe('real-time priority of a media worker thread', () => {
  it("priority 0 leaves the thread alone and reports the kernel's view of it", () => {
    const s = requestRealtimePriority(0);
    assert.equal(s.fallback, null);
    assert.equal(s.tid, currentThreadId());
    assert.equal(s.policy, 'SCHED_OTHER');
    assert.equal(s.priority, 0);
  });

  it('gives the asking thread SCHED_RR at the priority asked for, and only that thread', async () => {
    const got = await inWorker<ThreadScheduling & { mainThread: { policy: string } }>(
      `async (m) => ({ ...m.requestRealtimePriority(7), mainThread: m.schedulingOf(${currentThreadId()}) })`,
    );
    assert.notEqual(got.tid, currentThreadId(), 'the worker has its own thread id');
    assert.equal(got.mainThread.policy, 'SCHED_OTHER', 'the rest of the process keeps normal scheduling');
    assert.equal(schedulingOf(currentThreadId()).policy, 'SCHED_OTHER');
    if (mayUseRealtime) {
      assert.equal(got.fallback, null);
      assert.equal(got.policy, 'SCHED_RR');
      assert.equal(got.priority, 7);
    } else {
      // Not root: the thread runs on, normally, and the reason names what is missing.
      assert.equal(got.policy, 'SCHED_OTHER');
      assert.match(got.fallback ?? '', /CAP_SYS_NICE|only set up on Linux/);
    }
  });

  it('threads a real-time thread starts later are normal threads (reset on fork)', async () => {
    // The real-time thread starts a thread of its own (here a nested worker) after going real-time.
    const child = await inWorker<{ parent: string; child: string }>(`async (m) => {
      const parent = m.requestRealtimePriority(5).policy;
      const { Worker } = await import('node:worker_threads');
      const code = ${JSON.stringify(workerCode('async (m) => m.requestRealtimePriority(0).policy'))};
      const child = await new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true });
        w.once('message', (v) => { resolve(v); w.terminate(); });
        w.once('error', reject);
      });
      return { parent, child };
    }`);
    assert.deepEqual(child, { parent: mayUseRealtime ? 'SCHED_RR' : 'SCHED_OTHER', child: 'SCHED_OTHER' });
  });

  it('without chrt the thread runs normally and the reason says what to install', async () => {
    const got = await inWorker<ThreadScheduling>(`async (m) => m.requestRealtimePriority(5, '/nonexistent/chrt')`);
    assert.equal(got.policy, 'SCHED_OTHER');
    assert.match(got.fallback ?? '', /not found \(install util-linux\)/);
  });
});
