// Redis pub/sub bus for several server nodes. One connection publishes, one
// subscribes (a subscribed Redis connection can do nothing else); local
// handlers are multiplexed over one Redis channel per topic, subscribed on the
// first local handler and unsubscribed after the last.
import { Redis } from 'ioredis';
import { type Bus, type BusErrorReporter, type BusHandler, type Unsubscribe, deliver, reportToConsole } from './bus.js';

/** Channel prefix so hushcast can share a Redis server with other applications. */
const PREFIX = 'hushcast:';

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly topics = new Map<string, Set<BusHandler>>();
  /** Pending SUBSCRIBE/UNSUBSCRIBE per topic, so a quick unsubscribe+subscribe keeps the right final state. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(url: string, private readonly report: BusErrorReporter = reportToConsole) {
    const opts = { maxRetriesPerRequest: 3, lazyConnect: false };
    // Auto-pipelining: a fan-out's PUBLISHes issued in one tick go out as one write and one round trip.
    this.pub = new Redis(url, { ...opts, enableAutoPipelining: true });
    this.sub = new Redis(url, opts);
    for (const conn of [this.pub, this.sub]) {
      // ioredis reconnects by itself; report so an outage is visible in the logs.
      conn.on('error', (err) => this.report(err, '(redis connection)'));
    }
    this.sub.on('message', (channel: string, message: string) => {
      const topic = channel.slice(PREFIX.length);
      const handlers = this.topics.get(topic);
      if (handlers) deliver(handlers, message, topic, this.report);
    });
  }

  async publish(topic: string, message: string): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    await this.pub.publish(PREFIX + topic, message);
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('bus is closed');
    let handlers = this.topics.get(topic);
    const first = !handlers;
    if (!handlers) this.topics.set(topic, (handlers = new Set()));
    const entry: BusHandler = (m, t) => handler(m, t);
    handlers.add(entry);
    await this.sync(topic, first ? 'subscribe' : null);
    let done = false;
    return async () => {
      if (done || this.closed) return;
      done = true;
      const set = this.topics.get(topic);
      if (!set) return;
      set.delete(entry);
      if (set.size === 0) {
        this.topics.delete(topic);
        await this.sync(topic, 'unsubscribe');
      }
    };
  }

  /** Chains (un)subscribe commands per topic; a subscriber that joins while a subscribe is in flight waits for it too. */
  private sync(topic: string, command: 'subscribe' | 'unsubscribe' | null): Promise<unknown> {
    const before = this.pending.get(topic) ?? Promise.resolve();
    if (command === null) return before;
    const next = before
      .catch(() => undefined)
      .then(() => {
        // Re-check: the intent may have changed while waiting.
        const wanted = this.topics.has(topic);
        if (command === 'subscribe' && wanted) return this.sub.subscribe(PREFIX + topic);
        if (command === 'unsubscribe' && !wanted) return this.sub.unsubscribe(PREFIX + topic);
        return undefined;
      });
    this.pending.set(topic, next);
    void next.finally(() => {
      if (this.pending.get(topic) === next) this.pending.delete(topic);
    }).catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.topics.clear();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
