// Failed sign-in attempts, counted per username and per client IP in a
// sliding window. A username is locked after a few failures (guessing one
// account); an IP after more (one client guessing many accounts). A success
// clears that username's count. Kept in memory: with several nodes each node
// limits on its own, which still bounds guessing by a factor of the node count.

export interface SignInLimits {
  maxFailuresPerUsername: number;
  maxFailuresPerIp: number;
  windowMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  maxFailuresPerUsername: 5,
  maxFailuresPerIp: 20,
  windowMs: 15 * 60_000,
};

export interface Lockout {
  scope: 'username' | 'ip';
  retryAfterSeconds: number;
}

export class SignInLimiter {
  private readonly byUsername = new Map<string, number[]>();
  private readonly byIp = new Map<string, number[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    // Forget old entries so the maps do not grow with every username ever tried.
    this.sweeper = setInterval(() => this.sweep(), limits.windowMs);
    this.sweeper.unref();
  }

  /** The lockout that applies now, or null when an attempt may proceed. */
  check(ip: string, username: string): Lockout | null {
    const u = this.retryAfter(this.byUsername, username, this.limits.maxFailuresPerUsername);
    if (u > 0) return { scope: 'username', retryAfterSeconds: u };
    const i = this.retryAfter(this.byIp, ip, this.limits.maxFailuresPerIp);
    if (i > 0) return { scope: 'ip', retryAfterSeconds: i };
    return null;
  }

  recordFailure(ip: string, username: string): void {
    const t = this.now();
    push(this.byUsername, username, t);
    push(this.byIp, ip, t);
  }

  recordSuccess(username: string): void {
    this.byUsername.delete(username);
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private retryAfter(map: Map<string, number[]>, key: string, max: number): number {
    const list = this.prune(map, key);
    if (list.length < max) return 0;
    // Locked until the oldest failure that keeps the count at max leaves the window.
    const unlockAt = list[list.length - max]! + this.limits.windowMs;
    return Math.max(1, Math.ceil((unlockAt - this.now()) / 1000));
  }

  private prune(map: Map<string, number[]>, key: string): number[] {
    const list = map.get(key);
    if (!list) return [];
    const cutoff = this.now() - this.limits.windowMs;
    let drop = 0;
    while (drop < list.length && list[drop]! <= cutoff) drop++;
    if (drop > 0) list.splice(0, drop);
    if (list.length === 0) map.delete(key);
    return list;
  }

  private sweep(): void {
    for (const map of [this.byUsername, this.byIp]) for (const key of [...map.keys()]) this.prune(map, key);
  }
}

function push(map: Map<string, number[]>, key: string, t: number): void {
  const list = map.get(key);
  if (list) list.push(t);
  else map.set(key, [t]);
}

/** "Try again in 3 minutes (at 10:42 UTC)." */
export function retryMessage(lockout: Lockout, now = Date.now()): string {
  const s = lockout.retryAfterSeconds;
  const wait = s < 60 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minute${Math.ceil(s / 60) === 1 ? '' : 's'}`;
  const at = new Date(now + s * 1000).toISOString().slice(11, 16);
  const who = lockout.scope === 'username' ? 'for this username' : 'from your network address';
  return `Too many failed sign-in attempts ${who}. Try again in ${wait} (at ${at} UTC).`;
}
