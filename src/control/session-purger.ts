// Deletes expired session rows: once when the server starts, then every
// `intervalMs`, and then lets `afterPurge` close what belonged to them (the
// presence sockets of sessions that ended while open). Expired rows are already refused (findLiveSession checks
// expires_at); purging keeps the table from growing with every sign-in ever made.
import type { Db } from '../store/db.js';
import { deleteExpiredSessions } from '../store/sessions.js';

export const SESSION_PURGE_MS = 60 * 60_000;

export class SessionPurger {
  private readonly timer: NodeJS.Timeout;
  private waiters: Array<(deleted: number) => void> = [];
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    readonly intervalMs: number,
    private readonly report: (err: unknown) => void,
    private readonly afterPurge: () => Promise<void> = async () => undefined,
  ) {
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  /** One purge now; resolves with the number of rows deleted (0 after an error, which is reported). */
  async run(): Promise<number> {
    let deleted = 0;
    const done = this.running.then(async () => {
      try {
        deleted = await deleteExpiredSessions(this.db);
        await this.afterPurge();
      } catch (err) {
        this.report(err);
      }
    });
    this.running = done;
    await done;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(deleted);
    return deleted;
  }

  /** Resolves after the next purge ends (tests wait for the periodic one with this). */
  nextRun(): Promise<number> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops the timer and waits for a purge in progress (the database closes after this). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
