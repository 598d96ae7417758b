// Real-time scheduling for a media worker thread, as audio servers do it (PipeWire
// and JACK run their data threads SCHED_FIFO/RR through RTKit or CAP_SYS_NICE).
// A hop is due every 10 ms and must end before the next; under the normal scheduler
// (EEVDF since Linux 6.6) any other runnable thread on the core, even a nice-19 one,
// may be given a slice of ~3 ms first, which is what made hops late on a busy machine.
// A SCHED_RR thread preempts every normal thread at once. The kernel's RT throttling
// (sched_rt_runtime_us, 95 % by default) keeps a runaway worker from freezing a core.
//
// Node has no API for thread scheduling, so the thread's own id (from /proc/thread-self)
// is handed to util-linux's `chrt`. Linux only; elsewhere the workers run normally.
// SCHED_RESET_ON_FORK: threads this one starts later (the libuv pool, if its first job
// comes from here) are normal threads, not real-time ones.
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

export interface ThreadScheduling {
  /** Kernel thread id, null where /proc is not available. */
  tid: number | null;
  /** SCHED_OTHER, SCHED_RR, SCHED_FIFO… as the kernel reports it ('unknown' off Linux). */
  policy: string;
  /** Real-time priority (0 under the normal scheduler). */
  priority: number;
  /** Why real-time scheduling was asked for and not obtained (null: obtained, or not asked for). */
  fallback: string | null;
}

const POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];

/** The calling thread's kernel id (the worker thread's own, not the process's). */
export function currentThreadId(): number | null {
  try {
    // "PID/task/TID"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Policy and real-time priority of a thread of this process, from /proc/self/task/TID/stat. */
export function schedulingOf(tid: number | null): Pick<ThreadScheduling, 'policy' | 'priority'> {
  if (tid === null) return { policy: 'unknown', priority: 0 };
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3; rt_priority is field 40 and policy field 41.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { policy: POLICIES[Number(fields[41 - 3])] ?? 'unknown', priority: Number(fields[40 - 3]) };
  } catch {
    return { policy: 'unknown', priority: 0 };
  }
}

/**
 * Puts the calling thread under SCHED_RR at `priority` (1–99); 0 leaves it alone.
 * Never throws: what was obtained, and if not why, is in the result.
 */
export function requestRealtimePriority(priority: number, chrt = 'chrt'): ThreadScheduling {
  const tid = currentThreadId();
  if (priority <= 0) return { tid, ...schedulingOf(tid), fallback: null };
  if (process.platform !== 'linux' || tid === null) {
    return { tid, ...schedulingOf(tid), fallback: `real-time scheduling is only set up on Linux (this is ${process.platform})` };
  }
  const r = spawnSync(chrt, ['--rr', '--reset-on-fork', '--pid', String(priority), String(tid)], { encoding: 'utf8', timeout: 5000 });
  let fallback: string | null = null;
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    fallback = code === 'ENOENT' ? `${chrt} not found (install util-linux)` : `${chrt} failed: ${r.error.message}`;
  } else if (r.status !== 0) {
    fallback = `${chrt} refused: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`} (needs root or CAP_SYS_NICE)`;
  }
  const now = schedulingOf(tid);
  if (fallback === null && (now.policy !== 'SCHED_RR' || now.priority !== priority)) {
    fallback = `asked for SCHED_RR ${priority}, the thread runs ${now.policy} ${now.priority}`;
  }
  return { tid, ...now, fallback };
}
