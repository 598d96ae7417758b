// The tab's one presence connection and the store built from it.
//
// - One WebSocket per tab to /ws (wss on https), authenticated by the session cookie.
// - Heartbeat: {type:"ping"} every HEARTBEAT_MS; no message within HEARTBEAT_TIMEOUT_MS
//   means the path is dead (NAT timeout, sleeping laptop), so the socket is dropped and redialled.
// - Reconnect with exponential back-off and jitter, so a restarted server is not hit by
//   every tab at the same instant.
// - While the socket is down, GET /api/stream/status/ is polled every POLL_MS so badges
//   stay roughly right; polling stops as soon as the server says hello again.
// - After every (re)connect the friends list is refetched: events sent while we were away are lost.
//
// Components read the store with usePresence() and listen to raw events
// (recording_added, listener_count, …) with presence.on(type, cb) / useServerEvent().
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type {
  FriendRequest,
  FriendStatus,
  FriendsResponse,
  MyStreamStatus,
  ServerEvent,
  ServerEventOf,
  ServerEventType,
  StreamStatusResponse,
} from './contract.js';

export const HEARTBEAT_MS = 10_000;
export const HEARTBEAT_TIMEOUT_MS = 5_000;
export const POLL_MS = 3_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/** `connecting`: first dial; `open`: server said hello; `down`: socket lost, polling until it is back. */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'down';

export interface PresenceState {
  connection: ConnectionState;
  /** True once the first friends list arrived. */
  loaded: boolean;
  /** Sorted by username. */
  friends: FriendStatus[];
  incoming: FriendRequest[];
  outgoing: FriendRequest[];
  /** The signed-in user's own stream, when known (polling or streaming_status/listener_count events). */
  me: MyStreamStatus | null;
  /** Last error from a background refresh or poll (shown discreetly, never thrown). */
  lastError: string | null;
}

const INITIAL: PresenceState = {
  connection: 'idle',
  loaded: false,
  friends: [],
  incoming: [],
  outgoing: [],
  me: null,
  lastError: null,
};

type AnyListener = (ev: ServerEvent) => void;

export class PresenceClient {
  private state: PresenceState = INITIAL;
  private readonly listeners = new Set<(s: PresenceState) => void>();
  private readonly eventListeners = new Map<string, Set<AnyListener>>();
  private username: string | null = null;
  private onSignedOut: (() => void) | null = null;
  private ws: WebSocket | null = null;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private heartbeatDeadline: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private refreshInFlight: Promise<void> | null = null;
  private refreshAgain = false;
  /** Bumped by stop(): answers that belong to an earlier sign-in are dropped. */
  private epoch = 0;

  getState(): PresenceState {
    return this.state;
  }

  subscribe(listener: (s: PresenceState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Raw server events of one type (or '*' for all), after the store has applied them. */
  on<K extends ServerEventType>(type: K, cb: (ev: ServerEventOf<K>) => void): () => void;
  on(type: '*', cb: AnyListener): () => void;
  on(type: string, cb: (ev: never) => void): () => void {
    let set = this.eventListeners.get(type);
    if (!set) this.eventListeners.set(type, (set = new Set()));
    set.add(cb as AnyListener);
    return () => set!.delete(cb as AnyListener);
  }

  /** Starts the connection for a signed-in user. `onSignedOut` runs when the server says the session is gone. */
  start(username: string, onSignedOut: () => void): void {
    if (this.username === username && this.state.connection !== 'idle') return;
    this.stop();
    this.username = username;
    this.onSignedOut = onSignedOut;
    this.setState({ ...INITIAL, connection: 'connecting' });
    void this.refresh();
    this.connect();
    window.addEventListener('online', this.onBrowserOnline);
  }

  /** Closes the socket and clears every timer (sign-out). Safe to call twice. */
  stop(): void {
    this.epoch++;
    this.username = null;
    this.onSignedOut = null;
    window.removeEventListener('online', this.onBrowserOnline);
    this.clearReconnect();
    this.stopHeartbeat();
    this.stopPolling();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      detach(ws);
      ws.close(1000, 'signed out');
    }
    this.attempts = 0;
    if (this.state !== INITIAL) this.setState(INITIAL);
  }

  /** Refetches friends and requests (after own actions, reconnects). Concurrent calls coalesce. */
  refresh(): Promise<void> {
    if (this.refreshInFlight) {
      this.refreshAgain = true;
      return this.refreshInFlight;
    }
    const epoch = this.epoch;
    const run = async (): Promise<void> => {
      do {
        this.refreshAgain = false;
        try {
          // The friends list is the truth for friends and requests; the stream status adds
          // our own stream (the broadcast panel needs it at load), and may be absent on a
          // server without the streaming feature.
          const [data, status] = await Promise.all([
            api.get<FriendsResponse>('/api/friends'),
            api.get<StreamStatusResponse>('/api/stream/status/').catch((err: unknown) => {
              if (err instanceof ApiError && err.status === 404) return null;
              throw err;
            }),
          ]);
          if (epoch !== this.epoch) return;
          this.setState({
            ...this.state,
            loaded: true,
            friends: sortFriends(data.friends),
            incoming: data.incoming,
            outgoing: data.outgoing,
            me: status ? status.me : this.state.me,
            lastError: null,
          });
        } catch (err) {
          if (epoch !== this.epoch) return;
          if (this.handleAuthError(err)) return;
          this.setState({ ...this.state, lastError: describe(err) });
          return;
        }
      } while (this.refreshAgain);
    };
    this.refreshInFlight = run().finally(() => {
      this.refreshInFlight = null;
    });
    return this.refreshInFlight;
  }

  // ---- socket -------------------------------------------------------------

  private connect(): void {
    if (!this.username) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws: WebSocket;
    try {
      ws = new WebSocket(`${proto}//${location.host}/ws`);
    } catch (err) {
      console.error('presence: cannot open WebSocket', err);
      this.socketLost();
      return;
    }
    this.ws = ws;
    ws.onopen = () => this.startHeartbeat(ws);
    ws.onmessage = (e) => this.onMessage(ws, e);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      detach(ws);
      if (e.code === 4401) {
        // The session is gone (signed out elsewhere or expired): redialling cannot help.
        const cb = this.onSignedOut;
        this.stop();
        cb?.();
        return;
      }
      // 4409: too many tabs open, 4429: too many messages; redialling with back-off is right for both.
      if (e.code === 4400 || e.code === 1009 || e.code === 4409 || e.code === 4429) console.error(`presence: server closed the socket: ${e.code} ${e.reason}`);
      if (e.code === 4503) {
        // The node is draining: redial now; the load balancer sends us to another node. If none
        // answers, that attempt's close falls back to the usual back-off.
        this.stopHeartbeat();
        this.attempts = 0;
        this.clearReconnect();
        this.connect();
        return;
      }
      this.socketLost();
    };
    // 'error' is always followed by 'close'; nothing to do here.
    ws.onerror = () => {};
  }

  private onMessage(ws: WebSocket, e: MessageEvent): void {
    if (this.ws !== ws) return;
    this.armHeartbeatDeadline(ws, false);
    let ev: ServerEvent;
    try {
      ev = JSON.parse(String(e.data)) as ServerEvent;
    } catch {
      console.error('presence: ignoring a non-JSON message', e.data);
      return;
    }
    if (!ev || typeof ev.type !== 'string') return;
    this.apply(ev);
    this.emit(ev);
  }

  private socketLost(): void {
    this.stopHeartbeat();
    if (!this.username) return;
    if (this.state.connection !== 'down') this.setState({ ...this.state, connection: 'down' });
    this.startPolling();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.clearReconnect();
    // "Equal jitter": half the window fixed, half random — spreads a thundering herd
    // while keeping a floor so we never spin.
    const span = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempts);
    const delay = span / 2 + Math.random() * (span / 2);
    this.attempts = Math.min(this.attempts + 1, 16);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private readonly onBrowserOnline = (): void => {
    // The network came back: redial now instead of waiting out the back-off.
    if (this.username && !this.ws) {
      this.attempts = 0;
      this.clearReconnect();
      this.connect();
    }
  };

  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(JSON.stringify({ type: 'ping' }));
      this.armHeartbeatDeadline(ws, true);
    }, HEARTBEAT_MS);
  }

  /** After a ping, the server must say something within the timeout; any message counts as alive. */
  private armHeartbeatDeadline(ws: WebSocket, afterPing: boolean): void {
    if (this.heartbeatDeadline !== null) clearTimeout(this.heartbeatDeadline);
    this.heartbeatDeadline = null;
    if (!afterPing) return;
    this.heartbeatDeadline = setTimeout(() => {
      this.heartbeatDeadline = null;
      if (this.ws !== ws) return;
      console.warn('presence: no answer to ping, reconnecting');
      this.ws = null;
      detach(ws);
      ws.close(4000, 'heartbeat timeout');
      this.socketLost();
    }, HEARTBEAT_TIMEOUT_MS);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.heartbeatDeadline !== null) clearTimeout(this.heartbeatDeadline);
    this.heartbeatTimer = null;
    this.heartbeatDeadline = null;
  }

  // ---- polling fallback -----------------------------------------------------

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    void this.pollOnce();
  }

  private stopPolling(): void {
    this.polling = false;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
  }

  private async pollOnce(): Promise<void> {
    const epoch = this.epoch;
    try {
      const status = await api.get<StreamStatusResponse>('/api/stream/status/');
      if (epoch !== this.epoch || !this.polling) return;
      this.applyStatus(status);
    } catch (err) {
      if (epoch !== this.epoch || !this.polling) return;
      if (this.handleAuthError(err)) return;
      if (err instanceof ApiError && err.status === 404) {
        // A server without the streaming feature: the friends list carries presence too.
        await this.refresh();
      } else {
        this.setState({ ...this.state, lastError: describe(err) });
      }
    }
    if (epoch !== this.epoch || !this.polling) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      void this.pollOnce();
    }, POLL_MS);
  }

  private applyStatus(status: StreamStatusResponse): void {
    // The status list is the whole friend set: it also tells us about friendships
    // added or removed while the socket was down.
    const known = new Map(this.state.friends.map((f) => [f.username, f]));
    const friends = status.friends.map((f) => ({ ...known.get(f.username), ...f }));
    const names = new Set(friends.map((f) => f.username));
    this.setState({
      ...this.state,
      loaded: true,
      friends: sortFriends(friends),
      incoming: this.state.incoming.filter((r) => !names.has(r.username)),
      outgoing: this.state.outgoing.filter((r) => !names.has(r.username)),
      me: status.me,
      lastError: null,
    });
  }

  private handleAuthError(err: unknown): boolean {
    if (!(err instanceof ApiError) || err.status !== 401) return false;
    const cb = this.onSignedOut;
    this.stop();
    cb?.();
    return true;
  }

  // ---- events → store ------------------------------------------------------

  private apply(ev: ServerEvent): void {
    const s = this.state;
    switch (ev.type) {
      case 'hello':
        this.attempts = 0;
        this.stopPolling();
        this.clearReconnect();
        this.setState({ ...s, connection: 'open' });
        // Events sent while we were away are gone; the list is cheap to refetch.
        void this.refresh();
        return;
      case 'presence':
        this.updateFriend(ev.username, (f) => ({ ...f, online: ev.online }));
        return;
      case 'streaming_status':
        if (ev.username === this.username) {
          const me: MyStreamStatus = s.me ?? { is_streaming: false, started_at: null, listeners: 0, engine: null };
          this.setState({
            ...s,
            me: {
              ...me,
              is_streaming: ev.is_streaming,
              started_at: ev.is_streaming ? (ev.started_at ?? me.started_at) : null,
              listeners: ev.is_streaming ? me.listeners : 0,
            },
          });
          return;
        }
        this.updateFriend(ev.username, (f) => ({
          ...f,
          // A live friend is necessarily connected.
          online: ev.is_streaming ? true : f.online,
          is_streaming: ev.is_streaming,
          started_at: ev.is_streaming ? (ev.started_at ?? f.started_at) : null,
          listeners: ev.is_streaming ? f.listeners : 0,
        }));
        return;
      case 'listener_count':
        if (ev.username === this.username) {
          const me: MyStreamStatus = s.me ?? { is_streaming: true, started_at: null, listeners: 0, engine: null };
          this.setState({ ...s, me: { ...me, listeners: ev.listeners } });
        } else {
          this.updateFriend(ev.username, (f) => ({ ...f, listeners: ev.listeners }));
        }
        return;
      case 'friend_request':
        if (s.incoming.some((r) => r.id === ev.request.id)) return;
        this.setState({ ...s, incoming: [...s.incoming, ev.request] });
        return;
      case 'friend_request_cancelled':
        this.setState({ ...s, incoming: s.incoming.filter((r) => r.id !== ev.id) });
        return;
      case 'friend_request_declined':
        this.setState({ ...s, outgoing: s.outgoing.filter((r) => r.id !== ev.id) });
        return;
      case 'friend_request_sent':
        // Also arrives in the tab that sent it, which may already have refreshed.
        if (s.outgoing.some((r) => r.id === ev.request.id)) return;
        this.setState({ ...s, outgoing: [...s.outgoing, ev.request] });
        return;
      case 'friend_request_removed':
        // Request ids are unique across both lists, so one filter covers decline and cancel.
        this.setState({ ...s, incoming: s.incoming.filter((r) => r.id !== ev.id), outgoing: s.outgoing.filter((r) => r.id !== ev.id) });
        return;
      case 'friend_added': {
        const friend: FriendStatus = {
          username: ev.username,
          online: ev.online,
          is_streaming: ev.is_streaming,
          started_at: null,
          listeners: 0,
        };
        this.setState({
          ...s,
          friends: sortFriends([...s.friends.filter((f) => f.username !== ev.username), friend]),
          incoming: s.incoming.filter((r) => r.username !== ev.username),
          outgoing: s.outgoing.filter((r) => r.username !== ev.username),
        });
        if (ev.is_streaming) void this.refresh(); // picks up started_at and listeners
        return;
      }
      case 'friend_removed':
        this.setState({ ...s, friends: s.friends.filter((f) => f.username !== ev.username) });
        return;
      default:
        return;
    }
  }

  private updateFriend(username: string, change: (f: FriendStatus) => FriendStatus): void {
    const i = this.state.friends.findIndex((f) => f.username === username);
    if (i < 0) return;
    const friends = this.state.friends.slice();
    friends[i] = change(friends[i]!);
    this.setState({ ...this.state, friends: sortFriends(friends) });
  }

  private emit(ev: ServerEvent): void {
    for (const key of [ev.type, '*']) {
      const set = this.eventListeners.get(key);
      if (!set) continue;
      for (const cb of [...set]) {
        // One faulty listener must not break the others or the socket handler.
        try {
          cb(ev);
        } catch (err) {
          console.error(`presence: listener for ${ev.type} failed`, err);
        }
      }
    }
  }

  private setState(next: PresenceState): void {
    this.state = next;
    for (const l of [...this.listeners]) {
      try {
        l(next);
      } catch (err) {
        console.error('presence: store subscriber failed', err);
      }
    }
  }
}

function detach(ws: WebSocket): void {
  ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** By name only: rows that jump around when someone goes live would steal keyboard focus. */
function sortFriends(friends: FriendStatus[]): FriendStatus[] {
  return friends.slice().sort((a, b) => a.username.localeCompare(b.username));
}

/** The tab's single presence connection. */
export const presence = new PresenceClient();

/** The presence store as component state. */
export function usePresence(): PresenceState {
  const [state, setState] = useState(presence.getState());
  useEffect(() => {
    setState(presence.getState());
    return presence.subscribe(setState);
  }, []);
  return state;
}

/** One friend's status, or undefined when not (or no longer) a friend. */
export function useFriendStatus(username: string): FriendStatus | undefined {
  return usePresence().friends.find((f) => f.username === username);
}

/** Calls `cb` for each raw server event of `type` while the component is mounted (latest `cb` wins). */
export function useServerEvent<K extends ServerEventType>(type: K, cb: (ev: ServerEventOf<K>) => void): void {
  const ref = useRef(cb);
  ref.current = cb;
  useEffect(() => presence.on(type, (ev) => ref.current(ev)), [type]);
}
