// The sign-in limiter's counts in Redis, for several server nodes: the same
// rules as MemorySignInAttemptStore, each method one Lua script so the check
// and the count stay one atomic step across nodes. Failures are sorted sets
// scored by time (member: a unique attempt id); trusted addresses a hash per
// username. Keys are not hash-tagged: one Redis server (or a primary), as the bus uses.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Admission, SignInAttempt, SignInAttemptStore, SignInLimits } from './sign-in-limiter.js';

const PREFIX = 'hushcast:signin:';

const ADMIT = `
local now = tonumber(ARGV[1])
local win = tonumber(ARGV[2])
for i = 1, 3 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win) end
local function lock(key, max)
  local n = redis.call('ZCARD', key)
  if n < max then return nil end
  local r = redis.call('ZRANGE', key, n - max, n - max, 'WITHSCORES')
  return tonumber(r[2]) + win
end
local at = lock(KEYS[1], tonumber(ARGV[3]))
if at then return {'username-ip', at} end
at = lock(KEYS[2], tonumber(ARGV[4]))
if at then return {'ip', at} end
local trusted = tonumber(redis.call('HGET', KEYS[4], ARGV[8]) or '0')
if trusted <= now then
  local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
  if excess >= 0 then
    local delay = math.min(tonumber(ARGV[7]), tonumber(ARGV[6]) * 2 ^ math.min(excess, 30))
    local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
    at = tonumber(last[2]) + delay
    if at > now then return {'username', at} end
  end
end
for i = 1, 3 do
  redis.call('ZADD', KEYS[i], now, ARGV[9])
  redis.call('PEXPIRE', KEYS[i], win)
end
return {'ok', 0}
`;

const SUCCEEDED = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return 1
`;

export class RedisSignInAttemptStore implements SignInAttemptStore {
  private readonly redis: Redis;

  constructor(url: string) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 3 });
  }

  async admit(ip: string, username: string, now: number, limits: SignInLimits): Promise<Admission> {
    const id = `${now}:${randomBytes(6).toString('base64url')}`;
    const [verdict, at] = (await this.redis.eval(
      ADMIT,
      4,
      ...keys(ip, username),
      now,
      limits.windowMs,
      limits.maxFailuresPerUsernameAndIp,
      limits.maxFailuresPerIp,
      limits.usernameSlowdownAfter,
      limits.usernameSlowdownBaseMs,
      limits.usernameSlowdownMaxMs,
      ip,
      id,
    )) as [string, number];
    if (verdict === 'ok') return { ok: true, attempt: { ip, username, at: now, id } };
    const scope = verdict as 'username-ip' | 'ip' | 'username';
    return { ok: false, lockout: { scope, retryAfterSeconds: Math.max(1, Math.ceil((Number(at) - now) / 1000)) } };
  }

  async succeeded(attempt: SignInAttempt, now: number, limits: SignInLimits): Promise<void> {
    await this.redis.eval(SUCCEEDED, 4, ...keys(attempt.ip, attempt.username), attempt.id ?? '', attempt.ip, now + limits.trustedAddressMs, limits.trustedAddressMs);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

function keys(ip: string, username: string): [string, string, string, string] {
  return [`${PREFIX}pair:${username}\n${ip}`, `${PREFIX}ip:${ip}`, `${PREFIX}user:${username}`, `${PREFIX}trusted:${username}`];
}
