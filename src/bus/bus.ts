// The presence/event bus: publish/subscribe by topic. Messages are strings
// (already-serialized JSON) so a WebSocket can forward them untouched and the
// in-memory and Redis implementations behave the same. Topics used today:
// `user:<id>` — everything that user's open tabs should receive.

export type BusHandler = (message: string, topic: string) => void;

/** Stops one subscription; safe to call twice. */
export type Unsubscribe = () => Promise<void>;

export interface Bus {
  readonly kind: 'memory' | 'redis';
  /** Delivers `message` to every current subscriber of `topic` (on every node for Redis). */
  publish(topic: string, message: string): Promise<void>;
  /** Resolves once the subscription is active: a publish after that is delivered. */
  subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe>;
  /** Drops every subscription and connection; safe to call twice. */
  close(): Promise<void>;
}

/** Where a bus reports a handler that threw (a faulty subscriber never breaks delivery to the others). */
export type BusErrorReporter = (err: unknown, topic: string) => void;

export const reportToConsole: BusErrorReporter = (err, topic) => {
  console.error(`bus: a subscriber of ${topic} threw`, err);
};

/** Calls every handler in `handlers` with fault isolation; iterates a snapshot so (un)subscribing inside a handler is safe. */
export function deliver(handlers: Set<BusHandler>, message: string, topic: string, report: BusErrorReporter): void {
  for (const handler of [...handlers]) {
    try {
      handler(message, topic);
    } catch (err) {
      report(err, topic);
    }
  }
}
