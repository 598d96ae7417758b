// The online registry of several nodes, in Redis. Per user a hash
// `hushcast:conns:<user>` maps node id → open sockets on that node, and per
// node a set `hushcast:node-users:<node>` lists the users it counts, so a dead
// node's counts can be taken out (NodeHeartbeat.onNodeDied → reapNode). Every
// change is one Lua script, so "first socket anywhere" and "last socket
// anywhere" are decided atomically even when tabs open and close on several
// nodes at the same moment. A user counted by a node that just died stays
// online until that node is reaped (≤ 7.5 s, see node-heartbeat.ts).
import type { Redis } from 'ioredis';
import { PREFIX } from './node-heartbeat.js';
import type { OnlineRegistry } from './online-registry.js';

const connsKey = (userId: number | string) => `${PREFIX}conns:${userId}`;
const nodeUsersKey = (nodeId: string) => `${PREFIX}node-users:${nodeId}`;

// KEYS: conns:<user>, node-users:<node>; ARGV: node, user. Returns 1 when this is the user's first socket anywhere.
const OPENED = `
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
if total == 1 then return 1 end
return 0`;

// Same keys and arguments. Returns 1 when this was the user's last socket anywhere.
const CLOSED = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n > 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
if n < 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
return 0`;

// KEYS: node-users:<dead>; ARGV: dead node id, key prefix. Takes the node's counts out; returns the users
// that have no socket left anywhere.
const REAP = `
local offline = {}
for _, u in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[2] .. 'conns:' .. u
  redis.call('HDEL', k, ARGV[1])
  if redis.call('EXISTS', k) == 0 then table.insert(offline, u) end
end
redis.call('DEL', KEYS[1])
return offline`;

export class RedisOnlineRegistry implements OnlineRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
  ) {}

  async opened(userId: number): Promise<boolean> {
    return (await this.redis.eval(OPENED, 2, connsKey(userId), nodeUsersKey(this.nodeId), this.nodeId, String(userId))) === 1;
  }

  async closed(userId: number): Promise<boolean> {
    return (await this.redis.eval(CLOSED, 2, connsKey(userId), nodeUsersKey(this.nodeId), this.nodeId, String(userId))) === 1;
  }

  async onlineAmong(userIds: readonly number[]): Promise<Set<number>> {
    if (userIds.length === 0) return new Set();
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.exists(connsKey(id));
    const results = (await pipeline.exec()) ?? [];
    const online = new Set<number>();
    results.forEach(([err, n], i) => {
      if (err) throw err;
      if (n === 1) online.add(userIds[i]!);
    });
    return online;
  }

  /** Takes a dead node's sockets out; returns the users now offline everywhere. */
  async reapNode(nodeId: string): Promise<number[]> {
    const offline = (await this.redis.eval(REAP, 1, nodeUsersKey(nodeId), nodeId, PREFIX)) as string[];
    return offline.map(Number);
  }

  async close(): Promise<void> {}
}
