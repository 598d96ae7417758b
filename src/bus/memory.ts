// In-memory bus: one process, delivery synchronous within publish().
import { type Bus, type BusErrorReporter, type BusHandler, type Unsubscribe, deliver, reportToConsole } from './bus.js';

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<string, Set<BusHandler>>();
  private closed = false;

  constructor(private readonly report: BusErrorReporter = reportToConsole) {}

  async publish(topic: string, message: string): Promise<void> {
    if (this.closed) throw new Error('bus is closed');
    const handlers = this.topics.get(topic);
    if (handlers) deliver(handlers, message, topic, this.report);
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('bus is closed');
    let handlers = this.topics.get(topic);
    if (!handlers) this.topics.set(topic, (handlers = new Set()));
    // Wrap so the same function subscribed twice is two subscriptions.
    const entry: BusHandler = (m, t) => handler(m, t);
    handlers.add(entry);
    return async () => {
      const set = this.topics.get(topic);
      if (!set) return;
      set.delete(entry);
      if (set.size === 0) this.topics.delete(topic);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.topics.clear();
  }
}
