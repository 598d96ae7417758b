// Presence: who is online (any open /ws tab), and the WebSocket that carries
// every real-time event to a user's tabs.
//
// Each socket subscribes to its user's bus topic `user:<id>` and forwards what
// arrives untouched. A user's first socket makes them online, the last one
// closing makes them offline; both are published to their friends only (the
// friend list is read at publish time, so a new or removed friendship is
// respected at once). `onUserOffline` lets the streaming plane end a live
// stream when the broadcaster's last tab goes away.
//
// Bounds (docs/api.md): a socket closes with 4401 when its session expires,
// a user has at most WS_MAX_PER_USER sockets on a node (4409), and a socket
// may send WS_MAX_MESSAGES_PER_SECOND messages per second (4429). A client's
// mistakes (too big, bad frames, resets) are logged at debug level, not as
// server errors.
import websocket from '@fastify/websocket';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { LocalOnlineRegistry, type OnlineRegistry } from '../cluster/online-registry.js';
import { findUserById } from '../store/users.js';
import { csrfOriginAllowed } from './csrf.js';
import { WS_CLOSE } from './errors.js';
import { liveSessionIds } from '../store/sessions.js';
import { userTopic } from './notifier.js';
import { MAX_CLIENT_MESSAGE_BYTES } from './ws-messages.js';

export type PresenceListener = (userId: number) => void;

/** Server pings every socket this often; one missed pong closes it (a dead tab goes offline within 2 intervals). */
export const HEARTBEAT_MS = 25_000;
/** A socket whose unsent data exceeds this is a stuck client: it is dropped rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** How long shutdown waits for a client to answer the close handshake. */
const CLOSE_GRACE_MS = 1000;
/** setTimeout's longest delay; a later session expiry is re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Errors the ws library raises for what a client sent or how it left (ws/lib/receiver.js codes, socket resets). */
const CLIENT_FAULTS = /^(WS_ERR_|ECONNRESET$|EPIPE$|ETIMEDOUT$)/;

/**
 * This node's sockets per user, and the online registry that knows every node's (in memory on one node,
 * Redis with several). Online/offline listeners hear the cluster-wide changes: a user's first socket
 * anywhere, their last socket anywhere closing, or their last sockets lost with a dead node.
 */
export class Presence {
  private readonly counts = new Map<number, number>();
  private readonly offlineListeners = new Set<PresenceListener>();
  private readonly onlineListeners = new Set<PresenceListener>();
  private readonly lostListeners = new Set<(userIds: number[]) => void>();
  /** Set by the /ws plugin: closes this node's sockets of one session (sign-out). */
  closeSession: (sessionId: string) => void = () => undefined;
  /** Set by the /ws plugin: closes this node's sockets whose session expired or was deleted (run after each purge). */
  closeEndedSessions: () => Promise<void> = async () => undefined;

  constructor(
    private readonly report: (err: unknown) => void = (err) => console.error('presence listener failed', err),
    readonly heartbeatMs: number = HEARTBEAT_MS,
    readonly registry: OnlineRegistry = new LocalOnlineRegistry(),
    /** Clock for per-socket message rates. */
    readonly now: () => number = Date.now,
  ) {}

  /** Whether `userId` has a socket open on any node. */
  async isOnline(userId: number): Promise<boolean> {
    return (await this.registry.onlineAmong([userId])).has(userId);
  }

  /** The users among `userIds` with a socket open on any node. */
  onlineAmong(userIds: readonly number[]): Promise<Set<number>> {
    return this.registry.onlineAmong(userIds);
  }

  /** Number of open sockets of `userId` on this node. */
  connections(userId: number): number {
    return this.counts.get(userId) ?? 0;
  }

  /** Users with a socket on this node. */
  onlineUsers(): number {
    return this.counts.size;
  }

  /** `cb(userId)` when a user's LAST socket anywhere closes (or is lost with its node). Returns a function that removes the listener. */
  onUserOffline(cb: PresenceListener): () => void {
    this.offlineListeners.add(cb);
    return () => this.offlineListeners.delete(cb);
  }

  /** `cb(userId)` when a user's FIRST socket anywhere opens. */
  onUserOnline(cb: PresenceListener): () => void {
    this.onlineListeners.add(cb);
    return () => this.onlineListeners.delete(cb);
  }

  /** `cb(userIds)` when users went offline because the node holding their last sockets died. */
  onUsersLost(cb: (userIds: number[]) => void): () => void {
    this.lostListeners.add(cb);
    return () => this.lostListeners.delete(cb);
  }

  /**
   * Counts a socket in; true when this made the user online. The local count changes synchronously
   * (before the returned promise settles) and registry updates reach the registry in call order.
   */
  async socketOpened(userId: number): Promise<boolean> {
    this.counts.set(userId, (this.counts.get(userId) ?? 0) + 1);
    const first = await this.registry.opened(userId);
    if (first) this.emit(this.onlineListeners, userId);
    return first;
  }

  /** Counts a socket out; true when this made the user offline everywhere. An extra close is ignored. */
  async socketClosed(userId: number): Promise<boolean> {
    const n = this.counts.get(userId);
    if (n === undefined) return false;
    if (n > 1) this.counts.set(userId, n - 1);
    else this.counts.delete(userId);
    const last = await this.registry.closed(userId);
    if (last) this.emit(this.offlineListeners, userId);
    return last;
  }

  /** Users whose last sockets were on a node that died (the registry took them out). */
  usersLost(userIds: number[]): void {
    if (userIds.length === 0) return;
    for (const cb of [...this.lostListeners]) {
      try {
        cb(userIds);
      } catch (err) {
        this.report(err);
      }
    }
    for (const id of userIds) this.emit(this.offlineListeners, id);
  }

  private emit(listeners: Set<PresenceListener>, userId: number): void {
    for (const cb of [...listeners]) {
      try {
        cb(userId);
      } catch (err) {
        this.report(err);
      }
    }
  }
}

interface Connection {
  socket: WebSocket;
  userId: number;
  username: string;
  sessionId: string;
  /** Closes the socket with 4401 when the session expires. */
  expiry: NodeJS.Timeout | null;
  alive: boolean;
  unsubscribe: (() => Promise<void>) | null;
  /** Resolves when the socket closed and its offline work is done. */
  done: Promise<void>;
}

export const presencePlugin: FastifyPluginAsync = async (app) => {
  const { bus, notifier, presence, config, db } = app.services;
  const connections = new Set<Connection>();
  /** Open/close work in flight, awaited at shutdown so nothing writes to a closed bus or database. */
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>, what: string) => {
    const handled = p.catch((err: unknown) => app.log.error({ err }, `websocket ${what} failed`));
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  };

  // A dead node's users are told offline to their friends by the node that reaped it.
  presence.onUsersLost((userIds) => {
    for (const id of userIds) {
      track(
        (async () => {
          const user = await findUserById(app.services.db, id);
          if (user) await notifier.toFriendsOf(id, { type: 'presence', username: user.username, online: false });
        })(),
        'lost-user notification',
      );
    }
  });

  presence.closeSession = (sessionId) => {
    for (const c of connections) if (c.sessionId === sessionId) c.socket.close(WS_CLOSE.NOT_SIGNED_IN, 'signed out');
  };

  presence.closeEndedSessions = async () => {
    const open = [...connections];
    const live = await liveSessionIds(db, [...new Set(open.map((c) => c.sessionId))]);
    for (const c of open) if (!live.has(c.sessionId)) c.socket.close(WS_CLOSE.NOT_SIGNED_IN, 'session expired');
  };

  await app.register(websocket, {
    options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES },
    // The plugin's default logs every socket error at error level with a stack; most are the client's doing.
    errorHandler: (err, socket, request) => {
      logSocketError(request.log, err);
      socket.terminate();
    },
    // Our own shutdown below closes the sockets with a code; the default would close them without one.
    preClose: function (this: typeof app, done: (err?: Error) => void) {
      closeAll()
        .then(() => this.websocketServer.close(() => done()))
        .catch(done);
    },
  });

  async function closeAll(): Promise<void> {
    const waits = [...connections].map((c) => {
      c.socket.close(WS_CLOSE.RECONNECT_NOW, 'node shutting down; reconnect now');
      const timer = setTimeout(() => c.socket.terminate(), CLOSE_GRACE_MS);
      return c.done.finally(() => clearTimeout(timer));
    });
    await Promise.all(waits);
    await Promise.allSettled([...inFlight]);
  }

  const heartbeat = setInterval(() => {
    for (const c of connections) {
      if (!c.alive) {
        // A dead peer cannot answer a close handshake: drop it now.
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, presence.heartbeatMs);
  heartbeat.unref();
  app.addHook('onClose', async () => clearInterval(heartbeat));

  app.get('/ws', { websocket: true }, (socket, request) => {
    // Errors are logged once, by the plugin's errorHandler above.
    // Listeners are attached before any await so no early message is missed.
    const rate = { windowStart: 0, count: 0 };
    socket.on('message', (data, isBinary) => {
      if (overRate(rate)) {
        socket.close(WS_CLOSE.TOO_MANY_MESSAGES, 'too many messages');
        return;
      }
      onMessage(socket, data as Buffer, isBinary, holder.conn);
    });
    socket.on('pong', () => {
      if (holder.conn) holder.conn.alive = true;
    });
    // Filled by open() synchronously when the socket is counted in, so a close at any later moment is counted out.
    const holder: { conn: Connection | null } = { conn: null };
    let closed!: () => void;
    const done = new Promise<void>((resolve) => (closed = resolve));
    socket.once('close', () => {
      if (holder.conn) track(onClose(holder.conn).finally(closed), 'close');
      else closed();
    });
    if (!csrfOriginAllowed(request, config)) {
      socket.close(WS_CLOSE.ORIGIN, 'origin not allowed');
      return;
    }
    track(
      open(socket, request, done, holder).catch((err: unknown) => {
        socket.close(WS_CLOSE.INTERNAL, 'server error');
        throw err;
      }),
      'open',
    );
  });

  async function open(socket: WebSocket, request: FastifyRequest, done: Promise<void>, holder: { conn: Connection | null }): Promise<void> {
    const session = await app.resolveSession(request);
    if (!session) {
      socket.close(WS_CLOSE.NOT_SIGNED_IN, 'not signed in');
      return;
    }
    if (socket.readyState !== socket.OPEN) return;
    const { user } = session;
    if (refuseOverCap(socket, user.id)) return;
    const conn: Connection = {
      socket,
      userId: user.id,
      username: user.username,
      sessionId: session.sessionId,
      expiry: null,
      alive: true,
      unsubscribe: null,
      done,
    };
    const unsubscribe = await bus.subscribe(userTopic(user.id), (raw) => forward(conn, raw));
    // Checked again with no await before counting in, so parallel opens cannot overshoot the cap.
    if (socket.readyState !== socket.OPEN || refuseOverCap(socket, user.id)) {
      // Closed while subscribing: the close handler saw no connection, so clean up here.
      await unsubscribe();
      return;
    }
    conn.unsubscribe = unsubscribe;
    armExpiry(conn, session.expiresAt);
    connections.add(conn);
    holder.conn = conn;
    send(socket, JSON.stringify({ type: 'hello', username: user.username }));
    if (await presence.socketOpened(user.id)) {
      await notifier.toFriendsOf(user.id, { type: 'presence', username: user.username, online: true });
    }
  }

  function refuseOverCap(socket: WebSocket, userId: number): boolean {
    if (presence.connections(userId) < config.wsMaxPerUser) return false;
    socket.close(WS_CLOSE.TOO_MANY_SOCKETS, 'too many connections');
    return true;
  }

  function armExpiry(conn: Connection, expiresAt: number): void {
    const wait = expiresAt - Date.now();
    if (wait <= 0) {
      conn.socket.close(WS_CLOSE.NOT_SIGNED_IN, 'session expired');
      return;
    }
    conn.expiry = setTimeout(() => armExpiry(conn, expiresAt), Math.min(wait, MAX_TIMER_MS));
  }

  /** Counts a message into the socket's one-second window; true when it is one too many. */
  function overRate(rate: { windowStart: number; count: number }): boolean {
    const now = presence.now();
    if (rate.count === 0 || now - rate.windowStart >= 1000) {
      rate.windowStart = now;
      rate.count = 0;
    }
    rate.count++;
    return rate.count > config.wsMaxMessagesPerSecond;
  }

  async function onClose(conn: Connection): Promise<void> {
    connections.delete(conn);
    if (conn.expiry) clearTimeout(conn.expiry);
    // Counted out first (the local count synchronously, the registry before any later open of this
    // user reaches it), so a tab reconnecting right now sees the right count.
    const last = presence.socketClosed(conn.userId);
    // Friends are told without waiting for the bus to confirm the unsubscribe (a Redis round trip).
    const unsubscribed = conn.unsubscribe?.();
    const told = last.then((wasLast) =>
      wasLast ? notifier.toFriendsOf(conn.userId, { type: 'presence', username: conn.username, online: false }) : undefined,
    );
    await Promise.all([unsubscribed, told]);
  }

  function forward(conn: Connection, raw: string): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      app.log.warn({ user: conn.username }, 'websocket client too slow; dropping it');
      conn.socket.terminate();
      return;
    }
    send(conn.socket, raw);
  }

  function onMessage(socket: WebSocket, data: Buffer, isBinary: boolean, conn: Connection | null): void {
    if (conn) conn.alive = true;
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary');
      msg = JSON.parse(data.toString('utf8'));
    } catch {
      socket.close(WS_CLOSE.BAD_MESSAGE, 'malformed message');
      return;
    }
    const type = msg !== null && typeof msg === 'object' ? (msg as { type?: unknown }).type : undefined;
    if (type === 'ping') {
      send(socket, '{"type":"pong"}');
      return;
    }
    // A close reason is at most 123 bytes.
    socket.close(WS_CLOSE.BAD_MESSAGE, `unknown message type ${String(type).slice(0, 60)}`);
  }

  function send(socket: WebSocket, raw: string): void {
    socket.send(raw, (err) => {
      if (err) app.log.debug({ err }, 'websocket send failed (socket closing)');
    });
  }
};

/** A client's mistake or departure at debug level (no stack); anything else is a server error. */
function logSocketError(log: FastifyBaseLogger, err: unknown): void {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && CLIENT_FAULTS.test(e.code)) {
    log.debug({ code: e.code, reason: e.message }, 'websocket closed for a client error');
    return;
  }
  log.error({ err }, 'websocket error');
}
