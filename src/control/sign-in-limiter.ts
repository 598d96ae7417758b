// Sign-in guessing limits, and the one rule that makes them hold under
// concurrency: an attempt is admitted or refused in ONE atomic step of the
// store (`admit`), which counts it as a failure before the password is
// checked; a correct password then takes that failure back (`succeeded`).
// So however many requests race, no more than the limit ever reach argon2.
//
// What is limited (docs/decisions.md, "Sign-in limits without a lock-out DoS"):
// - per username AND address: a few failures lock that pair only, so a
//   stranger cannot lock the owner out from elsewhere;
// - per address: more failures lock one client guessing many accounts;
// - per username from every address: past a threshold each further attempt
//   waits exponentially longer (a distributed guesser slows to a crawl), but
//   addresses that signed in to the account recently skip this slow-down, so
//   the owner at home is never held up by it.
//
// The store is an interface: MemorySignInAttemptStore (one node; atomic
// because each method runs without an await) or RedisSignInAttemptStore
// (several nodes; one Lua script per method).

export interface SignInLimits {
  /** Failures for one username from one address before that pair is locked. */
  maxFailuresPerUsernameAndIp: number;
  /** Failures from one address (any usernames) before the address is locked. */
  maxFailuresPerIp: number;
  /** Failures for one username (all addresses) before its slow-down starts. */
  usernameSlowdownAfter: number;
  /** First slow-down delay; doubles with every further failure. */
  usernameSlowdownBaseMs: number;
  /** Longest slow-down delay. */
  usernameSlowdownMaxMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** An address that signed in to an account skips that account's slow-down for this long. */
  trustedAddressMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  maxFailuresPerUsernameAndIp: 5,
  maxFailuresPerIp: 20,
  usernameSlowdownAfter: 10,
  usernameSlowdownBaseMs: 1000,
  usernameSlowdownMaxMs: 15 * 60_000,
  windowMs: 15 * 60_000,
  trustedAddressMs: 30 * 24 * 3_600_000,
};

export interface Lockout {
  /** 'username-ip': this username from this address; 'ip': this address; 'username': the username's slow-down. */
  scope: 'username-ip' | 'ip' | 'username';
  retryAfterSeconds: number;
}

/** An admitted attempt, to hand back to `succeeded` when the password was right. */
export interface SignInAttempt {
  ip: string;
  username: string;
  at: number;
  /** The store's own id for the counted failure (the Redis store's sorted-set member). */
  id?: string;
}

export type Admission = { ok: true; attempt: SignInAttempt } | { ok: false; lockout: Lockout };

/** Where the counts live. Each method must be atomic (memory: no await inside; Redis: one script). */
export interface SignInAttemptStore {
  /** Refuses with the lockout that applies, or counts the attempt as a failure and admits it. */
  admit(ip: string, username: string, now: number, limits: SignInLimits): Promise<Admission>;
  /** Takes the attempt's failure back, clears the pair's failures and trusts the address for the username. */
  succeeded(attempt: SignInAttempt, now: number, limits: SignInLimits): Promise<void>;
  close(): Promise<void>;
}

export class SignInLimiter {
  constructor(
    readonly limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS,
    private readonly now: () => number = Date.now,
    private readonly store: SignInAttemptStore = new MemorySignInAttemptStore(limits),
  ) {}

  admit(ip: string, username: string): Promise<Admission> {
    return this.store.admit(ip, username, this.now(), this.limits);
  }

  succeeded(attempt: SignInAttempt): Promise<void> {
    return this.store.succeeded(attempt, this.now(), this.limits);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

export class MemorySignInAttemptStore implements SignInAttemptStore {
  private readonly byPair = new Map<string, number[]>();
  private readonly byIp = new Map<string, number[]>();
  private readonly byUsername = new Map<string, number[]>();
  /** username → address → trusted until. */
  private readonly trusted = new Map<string, Map<string, number>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS) {
    // Forget old entries so the maps do not grow with every username ever tried.
    this.sweeper = setInterval(() => this.sweep(Date.now(), limits), limits.windowMs);
    this.sweeper.unref();
  }

  async admit(ip: string, username: string, now: number, limits: SignInLimits): Promise<Admission> {
    const pairKey = pair(username, ip);
    const pairList = prune(this.byPair, pairKey, now, limits.windowMs);
    const ipList = prune(this.byIp, ip, now, limits.windowMs);
    const userList = prune(this.byUsername, username, now, limits.windowMs);
    const locked =
      windowLock('username-ip', pairList, limits.maxFailuresPerUsernameAndIp, now, limits.windowMs) ??
      windowLock('ip', ipList, limits.maxFailuresPerIp, now, limits.windowMs) ??
      (this.isTrusted(username, ip, now) ? null : slowdown(userList, now, limits));
    if (locked) return { ok: false, lockout: locked };
    push(this.byPair, pairKey, now);
    push(this.byIp, ip, now);
    push(this.byUsername, username, now);
    return { ok: true, attempt: { ip, username, at: now } };
  }

  async succeeded(attempt: SignInAttempt, now: number, limits: SignInLimits): Promise<void> {
    this.byPair.delete(pair(attempt.username, attempt.ip));
    removeOne(this.byIp, attempt.ip, attempt.at);
    removeOne(this.byUsername, attempt.username, attempt.at);
    let addresses = this.trusted.get(attempt.username);
    if (!addresses) this.trusted.set(attempt.username, (addresses = new Map()));
    addresses.set(attempt.ip, now + limits.trustedAddressMs);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private isTrusted(username: string, ip: string, now: number): boolean {
    return (this.trusted.get(username)?.get(ip) ?? 0) > now;
  }

  private sweep(now: number, limits: SignInLimits): void {
    for (const map of [this.byPair, this.byIp, this.byUsername]) for (const key of [...map.keys()]) prune(map, key, now, limits.windowMs);
    for (const [username, addresses] of this.trusted) {
      for (const [ip, until] of addresses) if (until <= now) addresses.delete(ip);
      if (addresses.size === 0) this.trusted.delete(username);
    }
  }
}

/** Locked until the oldest failure that keeps the count at `max` leaves the window. */
function windowLock(scope: Lockout['scope'], list: number[], max: number, now: number, windowMs: number): Lockout | null {
  if (list.length < max) return null;
  const unlockAt = list[list.length - max]! + windowMs;
  return { scope, retryAfterSeconds: seconds(unlockAt - now) };
}

/** Past `usernameSlowdownAfter` failures, the next attempt waits base·2^(excess) after the latest one, capped. */
function slowdown(list: number[], now: number, limits: SignInLimits): Lockout | null {
  const excess = list.length - limits.usernameSlowdownAfter;
  if (excess < 0) return null;
  const delay = Math.min(limits.usernameSlowdownMaxMs, limits.usernameSlowdownBaseMs * 2 ** Math.min(excess, 30));
  const allowedAt = list[list.length - 1]! + delay;
  return allowedAt > now ? { scope: 'username', retryAfterSeconds: seconds(allowedAt - now) } : null;
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

function pair(username: string, ip: string): string {
  return `${username}\n${ip}`;
}

function prune(map: Map<string, number[]>, key: string, now: number, windowMs: number): number[] {
  const list = map.get(key);
  if (!list) return [];
  const cutoff = now - windowMs;
  let drop = 0;
  while (drop < list.length && list[drop]! <= cutoff) drop++;
  if (drop > 0) list.splice(0, drop);
  if (list.length === 0) map.delete(key);
  return list;
}

function push(map: Map<string, number[]>, key: string, t: number): void {
  const list = map.get(key);
  if (list) list.push(t);
  else map.set(key, [t]);
}

function removeOne(map: Map<string, number[]>, key: string, t: number): void {
  const list = map.get(key);
  if (!list) return;
  const i = list.lastIndexOf(t);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) map.delete(key);
}

/** "Try again in 3 minutes (at 10:42 UTC)." */
export function retryMessage(lockout: Lockout, now = Date.now()): string {
  const s = lockout.retryAfterSeconds;
  const wait = s < 60 ? `${s} second${s === 1 ? '' : 's'}` : `${Math.ceil(s / 60)} minute${Math.ceil(s / 60) === 1 ? '' : 's'}`;
  const at = new Date(now + s * 1000).toISOString().slice(11, 16);
  const who = {
    'username-ip': 'for this username from your network address',
    ip: 'from your network address',
    username: 'for this username (someone is guessing its password)',
  }[lockout.scope];
  return `Too many failed sign-in attempts ${who}. Try again in ${wait} (at ${at} UTC).`;
}
