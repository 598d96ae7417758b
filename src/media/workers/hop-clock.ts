// The one clock of a media worker: a hop every 10 ms, scheduled against
// absolute deadlines (t0 + n·period) so timer lateness never accumulates into
// drift. If the thread was stalled (GC, a slow hop), missed hops run back to
// back to catch up, up to a bound; beyond it the clock skips ahead instead of
// bursting seconds of audio. A hop that finishes after the next hop's
// deadline counts as late (what bench:streams watches).
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { LatencyHistogram } from '../session/latency-histogram.js';

export interface HopClockStats {
  hops: number;
  /** Hops whose work ended after the following hop was due. */
  lateHops: number;
  /** Late hops during which (between due and end) the worker paused for garbage collection. */
  lateHopsDuringGc: number;
  gcPauses: number;
  gcPauseMaxMs: number;
  maxLatenessMs: number;
  skippedHops: number;
  busyP50Ms: number;
  busyP95Ms: number;
  busyMaxMs: number;
  /** How long after its due time a hop started (timer lateness, other work on the thread), p95 and max. */
  startDelayP95Ms: number;
  startDelayMaxMs: number;
}

export class HopClock {
  private timer: NodeJS.Timeout | null = null;
  private t0 = 0;
  private n = 0;
  private hops = 0;
  private lateHops = 0;
  private maxLatenessMs = 0;
  private skippedHops = 0;
  private busyMaxMs = 0;
  private readonly busy = new LatencyHistogram(0.05, 100);
  private readonly startDelay = new LatencyHistogram(0.05, 100);
  private startDelayMaxMs = 0;
  /** [due, ended] of the latest late hops, flat, for matching them with GC pauses. */
  private readonly lateWindows: number[] = [];
  /** [start, end] of the latest GC pauses of this thread, flat (fed by a PerformanceObserver). */
  private readonly gcWindows: number[] = [];
  private gcPauses = 0;
  private gcPauseMaxMs = 0;
  private gcObserver: PerformanceObserver | null = null;
  private readonly tick = (): void => this.run();

  constructor(
    private readonly onHop: (nowMs: number) => void,
    readonly periodMs = 10,
    private readonly maxCatchUpHops = 10,
  ) {}

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    if (!this.gcObserver) {
      // GC entries arrive after the pause, so they are matched with late hops when stats are read.
      this.gcObserver = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          this.gcPauses++;
          if (e.duration > this.gcPauseMaxMs) this.gcPauseMaxMs = e.duration;
          pushWindow(this.gcWindows, e.startTime, e.startTime + e.duration);
        }
      });
      this.gcObserver.observe({ entryTypes: ['gc'] });
    }
    this.t0 = performance.now();
    this.n = 0;
    this.timer = setTimeout(this.tick, this.periodMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }

  private run(): void {
    let now = performance.now();
    let due = this.t0 + (this.n + 1) * this.periodMs;
    if (now - due > this.maxCatchUpHops * this.periodMs) {
      const behind = Math.floor((now - due) / this.periodMs);
      this.skippedHops += behind;
      this.n += behind;
      due = this.t0 + (this.n + 1) * this.periodMs;
    }
    while (due <= now + 0.5) {
      this.n++;
      const started = performance.now();
      const delay = started - due;
      this.startDelay.record(delay);
      if (delay > this.startDelayMaxMs) this.startDelayMaxMs = delay;
      this.onHop(started);
      const ended = performance.now();
      this.hops++;
      const busy = ended - started;
      this.busy.record(busy);
      if (busy > this.busyMaxMs) this.busyMaxMs = busy;
      const lateness = ended - (due + this.periodMs);
      if (lateness > 0) {
        this.lateHops++;
        if (lateness > this.maxLatenessMs) this.maxLatenessMs = lateness;
        pushWindow(this.lateWindows, due, ended);
      }
      now = ended;
      due = this.t0 + (this.n + 1) * this.periodMs;
    }
    if (this.timer === null) return; // stopped by a hop
    this.timer = setTimeout(this.tick, Math.max(0, due - performance.now()));
  }

  stats(): HopClockStats {
    return {
      hops: this.hops,
      lateHops: this.lateHops,
      lateHopsDuringGc: countOverlapping(this.lateWindows, this.gcWindows),
      gcPauses: this.gcPauses,
      gcPauseMaxMs: this.gcPauseMaxMs,
      maxLatenessMs: this.maxLatenessMs,
      skippedHops: this.skippedHops,
      busyP50Ms: this.busy.percentile(50),
      busyP95Ms: this.busy.percentile(95),
      busyMaxMs: this.busyMaxMs,
      startDelayP95Ms: this.startDelay.percentile(95),
      startDelayMaxMs: this.startDelayMaxMs,
    };
  }

  resetStats(): void {
    this.hops = 0;
    this.lateHops = 0;
    this.lateWindows.length = 0;
    this.gcWindows.length = 0;
    this.gcPauses = 0;
    this.gcPauseMaxMs = 0;
    this.maxLatenessMs = 0;
    this.skippedHops = 0;
    this.busyMaxMs = 0;
    this.busy.reset();
    this.startDelayMaxMs = 0;
    this.startDelay.reset();
  }
}

/** Windows kept per kind: enough for a benchmark step, bounded for a server that runs for months. */
const MAX_WINDOWS = 512;

function pushWindow(windows: number[], start: number, end: number): void {
  if (windows.length >= MAX_WINDOWS * 2) windows.splice(0, 2);
  windows.push(start, end);
}

/** How many windows of `a` overlap at least one window of `b` (both flat [start, end] lists). */
export function countOverlapping(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 2) {
    for (let j = 0; j < b.length; j += 2) {
      if (b[j]! < a[i + 1]! && b[j + 1]! > a[i]!) {
        n++;
        break;
      }
    }
  }
  return n;
}
