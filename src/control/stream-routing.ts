// Requests about a live stream may arrive at any node (the load balancer has
// no sticky sessions); the node hosting the stream's media session carries them
// out. The registry of which node hosts what is the `node_id` of the stream's
// ActiveStream row (the one store every node shares). A request for a stream
// hosted elsewhere goes to that node over NodeRpc (src/cluster/node-rpc.ts),
// which runs the same LiveStreams method there; errors come back with their
// code and status, so the browser sees the same answers as on the host.
import { z } from 'zod';
import { type NodeRpc, NodeUnreachableError, RemoteError } from '../cluster/node-rpc.js';
import { activeStreamBySession, activeStreamOfUser } from '../store/active-streams.js';
import type { Db } from '../store/db.js';
import { ApiError } from './errors.js';
import type { LiveStreams, OwnStatus, StreamUser } from './live-streams.js';
import { StreamError, type StreamErrorCode } from './stream-error.js';

const User = z.object({ id: z.number().int(), username: z.string() });
const Methods = {
  answerBroadcaster: z.object({ owner: User, sessionId: z.string(), sdp: z.string() }),
  addListener: z.object({ listener: User, broadcaster: User, sdp: z.string() }),
  removeListener: z.object({ listener: User, listenerId: z.string() }),
  setDenoise: z.object({ owner: User, attenLimDb: z.number().nullable() }),
  stop: z.object({ owner: User }),
  ownStatus: z.object({ userId: z.number().int() }),
};
type Method = keyof typeof Methods;

export class StreamRouting {
  constructor(
    private readonly live: LiveStreams,
    private readonly db: Db,
    private readonly rpc: NodeRpc | null,
    private readonly nodeId: string,
  ) {
    if (!rpc) return;
    const on = <M extends Method>(method: M, run: (p: z.infer<(typeof Methods)[M]>) => Promise<unknown>) =>
      rpc.handle(method, (params) => run(Methods[method].parse(params) as z.infer<(typeof Methods)[M]>));
    on('answerBroadcaster', (p) => live.answerBroadcaster(p.owner, p.sessionId, p.sdp));
    on('addListener', (p) => live.addListener(p.listener, p.broadcaster, p.sdp));
    on('removeListener', async (p) => {
      await live.removeListener(p.listener, p.listenerId);
      return null;
    });
    on('setDenoise', async (p) => {
      await live.setDenoise(p.owner, { attenLimDb: p.attenLimDb });
      return null;
    });
    on('stop', (p) => live.stop(p.owner));
    on('ownStatus', async (p) => live.ownStatus(p.userId));
  }

  /** The other node hosting `userId`'s live stream, or null (hosted here, or not live: handled locally). */
  async remoteHostOfUser(userId: number): Promise<string | null> {
    if (!this.rpc || this.live.hostsUser(userId)) return null;
    return this.remote((await activeStreamOfUser(this.db, userId))?.node_id);
  }

  /** The other node hosting media session `sessionId`, or null. */
  async remoteHostOfSession(sessionId: string): Promise<string | null> {
    if (!this.rpc || this.live.hostsSession(sessionId)) return null;
    return this.remote((await activeStreamBySession(this.db, sessionId))?.node_id);
  }

  answerBroadcaster(node: string, owner: StreamUser, sessionId: string, sdp: string): Promise<string> {
    return this.call(node, 'answerBroadcaster', { owner, sessionId, sdp }) as Promise<string>;
  }

  addListener(node: string, listener: StreamUser, broadcaster: StreamUser, sdp: string): Promise<{ sdp: string; listener_id: string }> {
    return this.call(node, 'addListener', { listener, broadcaster, sdp }) as Promise<{ sdp: string; listener_id: string }>;
  }

  async removeListener(node: string, listener: StreamUser, listenerId: string): Promise<void> {
    await this.call(node, 'removeListener', { listener, listenerId });
  }

  async setDenoise(node: string, owner: StreamUser, attenLimDb: number | null): Promise<void> {
    await this.call(node, 'setDenoise', { owner, attenLimDb });
  }

  stop(node: string, owner: StreamUser): Promise<{ recording: Record<string, unknown> | null }> {
    return this.call(node, 'stop', { owner }) as Promise<{ recording: Record<string, unknown> | null }>;
  }

  ownStatus(node: string, userId: number): Promise<OwnStatus> {
    return this.call(node, 'ownStatus', { userId }) as Promise<OwnStatus>;
  }

  private remote(nodeId: string | null | undefined): string | null {
    return nodeId && nodeId !== this.nodeId ? nodeId : null;
  }

  private async call<M extends Method>(node: string, method: M, params: z.infer<(typeof Methods)[M]>): Promise<unknown> {
    try {
      return await this.rpc!.call(node, method, params);
    } catch (err) {
      if (err instanceof RemoteError) throw new StreamError(err.code as StreamErrorCode, err.message, err.status);
      if (err instanceof NodeUnreachableError) {
        throw new StreamError('MEDIA_UNAVAILABLE', 'The server hosting this stream is not reachable right now; try again in a moment.');
      }
      throw err;
    }
  }
}

/** What a node tells the caller about an error its handler threw (StreamError and ApiError keep code and status). */
export function streamErrorForNode(err: unknown): { code: string; message: string; status: number } | null {
  if (err instanceof StreamError) return { code: err.code, message: err.message, status: err.statusCode };
  if (err instanceof ApiError) return { code: err.code, message: err.message, status: err.status };
  return null;
}
