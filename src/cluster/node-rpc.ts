// Node-to-node requests over Redis pub/sub: a request about a live stream that
// arrives at one node is carried out by the node hosting its media session.
// Each node subscribes to `hushcast:rpc:<node>`; a request names the reply
// channel of its sender. Every message is signed with HMAC-SHA256 under
// CLUSTER_SECRET and carries its send time: a message that is unsigned, signed
// with another secret or older than MAX_AGE_MS is dropped (and logged), so
// anything else that can publish to Redis cannot drive a node's media plane.
// PUBLISH answers how many subscribers got the message: 0 means the hosting node
// is gone, and the caller learns it at once instead of waiting for a timeout.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { PREFIX } from './node-heartbeat.js';

/** Generous for an SDP answer (the host creates a peer connection on a media worker). */
export const RPC_TIMEOUT_MS = 10_000;
const MAX_AGE_MS = 30_000;

const requestChannel = (nodeId: string) => `${PREFIX}rpc:${nodeId}`;
const replyChannel = (nodeId: string) => `${PREFIX}rpc-reply:${nodeId}`;

const Envelope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('request'), id: z.string(), from: z.string(), sentAt: z.number(), method: z.string(), params: z.unknown() }),
  z.object({
    kind: z.literal('reply'),
    id: z.string(),
    from: z.string(),
    sentAt: z.number(),
    result: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string(), status: z.number() }).optional(),
  }),
]);
type Envelope = z.infer<typeof Envelope>;

/** An error the remote handler threw, with its code and HTTP status (re-thrown by the caller's mapping). */
export class RemoteError extends Error {
  override name = 'RemoteError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The hosting node did not answer (gone, or too slow). */
export class NodeUnreachableError extends Error {
  override name = 'NodeUnreachableError';
}

export type RpcHandler = (params: unknown) => Promise<unknown>;
/** Turns a handler's error into what the caller sees; anything else is INTERNAL/500. */
export type ErrorMapper = (err: unknown) => { code: string; message: string; status: number } | null;

export class NodeRpc {
  private readonly sub: Redis;
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    private readonly pub: Redis,
    redisUrl: string,
    readonly nodeId: string,
    private readonly secret: string,
    private readonly mapError: ErrorMapper,
    private readonly report: (err: unknown, what: string) => void,
  ) {
    this.sub = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.sub.on('error', (err) => report(err, 'node rpc redis connection'));
    this.sub.on('message', (_channel: string, raw: string) => this.onMessage(raw));
  }

  /** Resolves once this node receives requests and replies. */
  async start(): Promise<void> {
    await this.sub.subscribe(requestChannel(this.nodeId), replyChannel(this.nodeId));
  }

  handle(method: string, handler: RpcHandler): void {
    this.handlers.set(method, handler);
  }

  /** Runs `method` on `nodeId`; rejects with RemoteError (the handler's error) or NodeUnreachableError. */
  async call(nodeId: string, method: string, params: unknown, timeoutMs = RPC_TIMEOUT_MS): Promise<unknown> {
    if (this.closed) throw new NodeUnreachableError('this node is shutting down');
    const id = randomUUID();
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new NodeUnreachableError(`node ${nodeId} did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const receivers = await this.pub.publish(requestChannel(nodeId), this.seal({ kind: 'request', id, from: this.nodeId, sentAt: Date.now(), method, params }));
    if (receivers === 0) {
      this.settle(id, new NodeUnreachableError(`node ${nodeId} is not connected to the cluster`));
    }
    return answer;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, new NodeUnreachableError('this node is shutting down'));
    await this.sub.quit().catch(() => this.sub.disconnect());
  }

  private settle(id: string, outcome: Error | { value: unknown }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome.value);
  }

  private onMessage(raw: string): void {
    const msg = this.open(raw);
    if (!msg) return;
    if (msg.kind === 'reply') {
      if (msg.error) this.settle(msg.id, new RemoteError(msg.error.code, msg.error.message, msg.error.status));
      else this.settle(msg.id, { value: msg.result });
      return;
    }
    void this.serve(msg);
  }

  private async serve(req: Extract<Envelope, { kind: 'request' }>): Promise<void> {
    const reply: Extract<Envelope, { kind: 'reply' }> = { kind: 'reply', id: req.id, from: this.nodeId, sentAt: Date.now() };
    const handler = this.handlers.get(req.method);
    try {
      if (!handler) throw new RemoteError('INTERNAL', `unknown node request ${req.method}`, 500);
      reply.result = await handler(req.params);
    } catch (err) {
      const mapped = this.mapError(err);
      if (!mapped) this.report(err, `node request ${req.method} from ${req.from}`);
      reply.error = mapped ?? { code: 'INTERNAL', message: 'Something went wrong on the server. Please try again.', status: 500 };
    }
    reply.sentAt = Date.now();
    await this.pub.publish(replyChannel(req.from), this.seal(reply)).catch((err: unknown) => this.report(err, 'sending a node reply'));
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  /** `<signature>.<json>` */
  private seal(msg: Envelope): string {
    const body = JSON.stringify(msg);
    return `${this.sign(body)}.${body}`;
  }

  private open(raw: string): Envelope | null {
    const dot = raw.indexOf('.');
    const sig = Buffer.from(raw.slice(0, Math.max(0, dot)));
    const body = raw.slice(dot + 1);
    const expected = Buffer.from(this.sign(body));
    if (dot < 0 || sig.length !== expected.length || !timingSafeEqual(sig, expected)) {
      this.report(new Error('a node message with a bad signature was dropped (is CLUSTER_SECRET the same on every node?)'), 'node rpc');
      return null;
    }
    const parsed = Envelope.safeParse(JSON.parse(body));
    if (!parsed.success || Math.abs(Date.now() - parsed.data.sentAt) > MAX_AGE_MS) {
      this.report(new Error('a stale or malformed node message was dropped'), 'node rpc');
      return null;
    }
    return parsed.data;
  }
}
