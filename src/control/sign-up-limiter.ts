// Sign-ups per client address: each attempt that passes validation is counted
// in the same atomic step that admits it, so parallel requests cannot slip
// past the limit (the sign-in limiter's rule). Behind a store interface so a
// Redis store (one Lua script over a sorted set per address) can serve a cluster.

export interface SignUpAdmission {
  ok: boolean;
  /** When refused: seconds until the oldest counted sign-up leaves the window. */
  retryAfterSeconds: number;
}

export interface SignUpStore {
  /** Refuses when `max` sign-ups from `ip` fall in the last `windowMs`; otherwise counts this one. Atomic. */
  admit(ip: string, now: number, max: number, windowMs: number): Promise<SignUpAdmission>;
  close(): Promise<void>;
}

export const SIGN_UP_WINDOW_MS = 3_600_000;

export class SignUpLimiter {
  constructor(
    readonly maxPerWindow: number,
    readonly windowMs: number = SIGN_UP_WINDOW_MS,
    private readonly now: () => number = Date.now,
    private readonly store: SignUpStore = new MemorySignUpStore(windowMs),
  ) {}

  admit(ip: string): Promise<SignUpAdmission> {
    return this.store.admit(ip, this.now(), this.maxPerWindow, this.windowMs);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export class MemorySignUpStore implements SignUpStore {
  private readonly byIp = new Map<string, number[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(windowMs: number) {
    this.sweeper = setInterval(() => {
      const cutoff = Date.now() - windowMs;
      for (const [ip, list] of this.byIp) if (list[list.length - 1]! <= cutoff) this.byIp.delete(ip);
    }, windowMs);
    this.sweeper.unref();
  }

  async admit(ip: string, now: number, max: number, windowMs: number): Promise<SignUpAdmission> {
    const cutoff = now - windowMs;
    const list = (this.byIp.get(ip) ?? []).filter((t) => t > cutoff);
    if (list.length >= max) {
      this.byIp.set(ip, list);
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((list[list.length - max]! + windowMs - now) / 1000)) };
    }
    list.push(now);
    this.byIp.set(ip, list);
    return { ok: true, retryAfterSeconds: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
