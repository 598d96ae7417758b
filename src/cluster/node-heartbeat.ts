// Node liveness in Redis. Each node keeps a key `hushcast:node:<id>` alive with
// a short expiry and is a member of the set `hushcast:nodes`. A node whose key
// expired (SIGKILL, power loss, network cut) is dead: every surviving node scans
// for such members, and the one whose SREM removes the member (Redis runs it
// once) owns the cleanup and tells its listeners (`onNodeDied`). A node that
// starts again under the same NODE_ID first cleans up after its previous life
// the same way, so nothing of a crash outlives a quick restart either.
//
// Bound: a dead node is noticed at most NODE_TTL_MS + SCAN_MS after its last
// heartbeat (7.5 s), inside the 15 s the issue allows for counting it out.
import type { Redis } from 'ioredis';

export const NODE_TTL_MS = 6000;
/** Heartbeat and dead-node scan period. */
export const SCAN_MS = 1500;
export const PREFIX = 'hushcast:';
const NODES = `${PREFIX}nodes`;
const nodeKey = (id: string) => `${PREFIX}node:${id}`;

export type NodeDiedListener = (nodeId: string) => Promise<void>;

/** What a node says about itself in its heartbeat (shown by /api/health of any node later). */
export interface NodeInfo {
  node_id: string;
  started_at: string;
  streams: number;
  load: number;
}

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: NodeDiedListener[] = [];
  private running: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly redis: Redis,
    readonly nodeId: string,
    private readonly describe: () => { streams: number; load: number },
    private readonly report: (err: unknown, what: string) => void,
  ) {}

  /** Called once per dead node, on the one node that claimed its cleanup. Listeners run in order of registration. */
  onNodeDied(listener: NodeDiedListener): void {
    this.listeners.push(listener);
  }

  /** Cleans up after this node's previous life, then announces it and starts beating and scanning. */
  async start(): Promise<void> {
    if (await this.claim(this.nodeId)) await this.cleanUp(this.nodeId);
    await this.beat();
    await this.redis.sadd(NODES, this.nodeId);
    this.timer = setInterval(() => {
      // One round at a time: a slow Redis never piles rounds up.
      this.running = this.running.then(() => this.round());
    }, SCAN_MS);
    this.timer.unref();
  }

  /** Nodes whose heartbeat key exists now. */
  async liveNodes(): Promise<NodeInfo[]> {
    const ids = await this.redis.smembers(NODES);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(nodeKey));
    return values.flatMap((v) => (v ? [JSON.parse(v) as NodeInfo] : []));
  }

  /** Leaves the cluster on purpose (shutdown): the key and the membership go at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.redis.multi().del(nodeKey(this.nodeId)).srem(NODES, this.nodeId).exec();
  }

  private async round(): Promise<void> {
    if (this.closed) return;
    try {
      await this.beat();
      const ids = await this.redis.smembers(NODES);
      const others = ids.filter((id) => id !== this.nodeId);
      if (others.length === 0) return;
      const flags = await Promise.all(others.map((id) => this.redis.exists(nodeKey(id))));
      for (let i = 0; i < others.length; i++) {
        if (flags[i] === 0 && !this.closed && (await this.claim(others[i]!))) await this.cleanUp(others[i]!);
      }
    } catch (err) {
      this.report(err, 'node heartbeat');
    }
  }

  private async beat(): Promise<void> {
    const info: NodeInfo = { node_id: this.nodeId, started_at: this.startedAt, ...this.describe() };
    await this.redis.set(nodeKey(this.nodeId), JSON.stringify(info), 'PX', NODE_TTL_MS);
  }

  /** True for exactly one caller per death: SREM removes the member once. */
  private async claim(nodeId: string): Promise<boolean> {
    return (await this.redis.srem(NODES, nodeId)) === 1;
  }

  private async cleanUp(nodeId: string): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(nodeId);
      } catch (err) {
        this.report(err, `cleaning up after node ${nodeId}`);
      }
    }
  }
}
