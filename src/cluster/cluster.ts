// This node's membership of a cluster (REDIS_URL set): one Redis connection for
// cluster state (the bus keeps its own two), the node heartbeat and the online
// registry. Without REDIS_URL there is no Cluster and the node is standalone.
import { Redis } from 'ioredis';
import { NodeHeartbeat } from './node-heartbeat.js';
import { type ErrorMapper, NodeRpc } from './node-rpc.js';
import { RedisOnlineRegistry } from './redis-online-registry.js';

export class Cluster {
  readonly redis: Redis;
  readonly heartbeat: NodeHeartbeat;
  readonly online: RedisOnlineRegistry;
  /** Node-to-node requests; null without CLUSTER_SECRET (then a node serves only the streams it hosts). */
  readonly rpc: NodeRpc | null;

  constructor(
    redisUrl: string,
    readonly nodeId: string,
    secret: string | undefined,
    describe: () => { streams: number; load: number },
    mapError: ErrorMapper,
    report: (err: unknown, what: string) => void,
  ) {
    // Commands fail after one reconnect attempt instead of queueing for long: presence and health
    // should answer "Redis is down" rather than hang.
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.redis.on('error', (err) => report(err, 'cluster redis connection'));
    this.heartbeat = new NodeHeartbeat(this.redis, nodeId, describe, report);
    this.online = new RedisOnlineRegistry(this.redis, nodeId);
    this.rpc = secret ? new NodeRpc(this.redis, redisUrl, nodeId, secret, mapError, report) : null;
  }

  /** Takes node requests, then joins (heartbeat): other nodes may route to this one from then on. */
  async start(): Promise<void> {
    await this.rpc?.start();
    await this.heartbeat.start();
  }

  /** Whether Redis answers a PING within `timeoutMs`. */
  async reachable(timeoutMs = 1000): Promise<boolean> {
    return answersWithin(this.redis.ping(), timeoutMs);
  }

  async close(): Promise<void> {
    try {
      await this.heartbeat.close();
      await this.rpc?.close();
    } finally {
      await this.redis.quit().catch(() => this.redis.disconnect());
    }
  }
}

/** True when `p` resolves within `timeoutMs`; false when it rejects or takes longer. */
export async function answersWithin(p: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([p.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
