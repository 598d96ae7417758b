// The registry and lifecycle of live streams on this node: one LiveStream per
// broadcaster, tying together its ActiveStream row, its recording row and its
// media-plane session. Every way a stream can end (stop button, sendBeacon,
// last WebSocket closing, media-plane failure, shutdown) goes through end(),
// which runs exactly once per session: media session stopped, recording row
// finalized, ActiveStream row removed, friends and self told is_streaming:false.
//
// A listener may listen only while it is the broadcaster's friend, for the whole
// life of its peer connection: its entry is registered (and counted against
// MAX_LISTENERS_PER_USER) before the media plane is asked for anything, so a
// friend_removed arriving at any moment finds it and revokes it; friendship is
// checked again once it is registered, which covers an unfriend that committed
// just before; and an entry revoked while the media plane was answering is taken
// back out of the media plane before the request fails.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Config, DenoiseEngineName } from '../config.js';
import type { DenoiseParams } from '../denoise/denoiser.js';
import { rawCompanionName, type RecordFormat } from '../media/recording/recording-files.js';
import {
  type ListenerEndReason,
  type SessionEndReason,
  type SessionSummary,
  MediaError,
  type MediaPlane,
} from '../media/media-plane.js';
import {
  activeStreamsOfNode,
  activeStreamsOfUsers,
  allActiveStreams,
  type NodeScope,
  claimActiveStream,
  releaseActiveStream,
  setActiveStreamEngine,
  setActiveStreamRecording,
} from '../store/active-streams.js';
import { type Db, nowIso } from '../store/db.js';
import { interruptRecording } from '../store/recordings.js';
import { StreamError } from './stream-error.js';
import type { ServerMessage } from './ws-messages.js';

export interface StreamUser {
  id: number;
  username: string;
}

/** Publishes WebSocket messages (api.md "Notifier"; implemented by notifier.ts). */
export interface StreamNotifier {
  toUser(userId: number, msg: ServerMessage): Promise<void>;
  toUserAndFriends(userId: number, msg: ServerMessage): Promise<void>;
}

/** The recording rows of a stream (owned by the recordings feature; adapted in streams.ts). */
export interface StreamRecordingRows {
  /** Creates the 'recording' row when the stream starts; returns its id. */
  create(input: {
    ownerId: number;
    fileName: string;
    rawFileName: string | null;
    startedAt: string;
    engine: DenoiseEngineName;
  }): Promise<number>;
  /** Finalizes the row from the media plane's summary (null summary: nothing was written); returns the API shape. */
  finalize(input: {
    recordingId: number;
    ownerId: number;
    endedAt: string;
    summary: SessionSummary | null;
  }): Promise<Record<string, unknown> | null>;
  /** Removes a row whose stream never started. */
  discard(recordingId: number): Promise<void>;
}

export interface StreamLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LiveStreamsDeps {
  config: Config;
  db: Db;
  media: MediaPlane;
  notifier: StreamNotifier;
  recordings: StreamRecordingRows;
  areFriends(a: number, b: number): Promise<boolean>;
  /** Subscribes to the messages a user's tabs receive (bus topic user:<id>); resolves to an unsubscribe. */
  watchUser(userId: number, onMessage: (raw: string) => void): Promise<() => Promise<void>>;
  log: StreamLog;
  /** Rows this node's start-up clean-up owns: null = all (standalone), else this NODE_ID's (cluster). */
  nodeScope: NodeScope;
}

interface LiveStream {
  sessionId: string;
  owner: StreamUser;
  startedAt: string;
  engine: DenoiseEngineName;
  recordingId: number | null;
  denoise: DenoiseParams;
  /** Settles when the media session has started (or failed to). */
  ready: Promise<void>;
  ending: Promise<EndResult> | null;
  /** Stops watching the owner's events (friend_removed drops that ex-friend's listeners). */
  unwatch: (() => Promise<void>) | null;
}

interface ListenerEntry {
  listenerId: string;
  sessionId: string;
  userId: number;
  username: string;
  /** Set when the entry is dropped: why a request still setting it up must fail. */
  revoked: StreamError | null;
}

export interface EndResult {
  sessionId: string;
  reason: SessionEndReason;
  recording: Record<string, unknown> | null;
}

export interface StartResult {
  session_id: string;
  started_at: string;
  engine: DenoiseEngineName;
  /** Initial noise-reduction strength (null = full). */
  atten_lim_db: number | null;
}

export interface OwnStatus {
  is_streaming: boolean;
  started_at: string | null;
  listeners: number;
  engine: DenoiseEngineName | null;
  session_id: string | null;
  atten_lim_db: number | null;
}

/**
 * `<username>_<UTC timestamp>.opus` (or `.wav`); the timestamp keeps milliseconds so quick restarts
 * never collide. The extension is the format: the media plane and the HTTP layer go by it.
 */
export function recordingFileName(username: string, startedAt: Date, format: RecordFormat = 'wav'): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace('.', '_');
  return `${username}_${stamp}.${format}`;
}

export class LiveStreams {
  private readonly bySession = new Map<string, LiveStream>();
  private readonly byUser = new Map<number, LiveStream>();
  private readonly listeners = new Map<string, ListenerEntry>();
  private closing = false;

  private readonly onSessionEnded = (summary: SessionSummary, reason: SessionEndReason): void => {
    this.track(this.end(summary.sessionId, reason, summary), { sessionId: summary.sessionId, reason }, 'ending a stream the media plane ended failed');
  };
  private readonly onListenerCount = (sessionId: string, listeners: number): void => {
    const live = this.bySession.get(sessionId);
    if (!live) return;
    this.track(
      this.deps.notifier.toUser(live.owner.id, { type: 'listener_count', username: live.owner.username, listeners }),
      { sessionId },
      'publishing listener_count failed',
    );
  };
  /** The media plane dropped a listener (never connected in time, failed, closed by the peer): its slot is free again. */
  private readonly onListenerEnded = (sessionId: string, listenerId: string, reason: ListenerEndReason): void => {
    const entry = this.listeners.get(listenerId);
    if (!entry || entry.sessionId !== sessionId) return;
    this.listeners.delete(listenerId);
    entry.revoked ??= new StreamError('INVALID_STATE', 'The listening connection ended before it was set up; please try again.');
    this.deps.log.info({ sessionId, listener: entry.username, listenerId, reason }, 'listener dropped by the media plane');
  };
  private readonly onRecordingFailed = (sessionId: string, message: string): void => {
    const live = this.bySession.get(sessionId);
    this.deps.log.warn({ sessionId, user: live?.owner.username, err: message }, 'recording stopped; the live stream goes on');
    if (!live) return;
    this.track(
      this.deps.notifier.toUser(live.owner.id, {
        type: 'recording_stopped',
        message: `Recording stopped (${message}). Your listeners still hear you; what was recorded so far is kept.`,
      }),
      { sessionId },
      'publishing recording_stopped failed',
    );
  };

  constructor(private readonly deps: LiveStreamsDeps) {
    deps.media.on('sessionEnded', this.onSessionEnded);
    deps.media.on('listenerCountChanged', this.onListenerCount);
    deps.media.on('listenerEnded', this.onListenerEnded);
    deps.media.on('recordingFailed', this.onRecordingFailed);
  }

  /**
   * Removes ActiveStream rows left by a previous process (a crash: no media
   * session can exist for them) and tells the owners' friends they are offline.
   * Recording files and rows of those streams are repaired by the recovery module.
   */
  async clearStale(): Promise<number> {
    let cleared = 0;
    for (const row of await allActiveStreams(this.deps.db, this.deps.nodeScope)) {
      if (this.bySession.has(row.session_id)) continue;
      if (!(await releaseActiveStream(this.deps.db, row.session_id))) continue;
      cleared++;
      this.deps.log.warn({ sessionId: row.session_id, userId: row.user_id }, 'removed a stale live stream left by a previous run');
      await this.publishStatus(row.user_id, null, { is_streaming: false });
    }
    return cleared;
  }

  async start(owner: StreamUser): Promise<StartResult> {
    if (this.closing) throw new StreamError('MEDIA_UNAVAILABLE', 'The server is shutting down; try again in a moment.');
    const { db, media, config } = this.deps;
    const sessionId = randomUUID();
    const started = new Date();
    const startedAt = started.toISOString();
    const requested = media.engineStatus().engine;
    const row = await claimActiveStream(db, { userId: owner.id, sessionId, startedAt, engine: requested, nodeId: config.nodeId });
    if (!row) throw new StreamError('ALREADY_STREAMING', 'You are already live. Stop your current stream before starting a new one.');

    let markReady!: () => void;
    const live: LiveStream = {
      sessionId,
      owner,
      startedAt,
      engine: requested,
      recordingId: null,
      // DFN_ATTEN_LIM_DB absent or 0 means unlimited (config.ts); DenoiseParams spells that null.
      denoise: { attenLimDb: config.dfnAttenLimDb ? config.dfnAttenLimDb : null },
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      ending: null,
      unwatch: null,
    };
    this.bySession.set(sessionId, live);
    this.byUser.set(owner.id, live);
    try {
      const fileName = recordingFileName(owner.username, started, config.recordFormat);
      const rawFileName = config.recordRaw ? rawCompanionName(fileName) : null;
      live.recordingId = await this.deps.recordings.create({ ownerId: owner.id, fileName, rawFileName, startedAt, engine: requested });
      await setActiveStreamRecording(db, sessionId, live.recordingId);
      const { engine } = await media.startSession({
        sessionId,
        ownerId: owner.id,
        ownerName: owner.username,
        engine: requested,
        denoise: live.denoise,
        recording: {
          filePath: path.join(config.recordingsDir, fileName),
          rawFilePath: rawFileName === null ? null : path.join(config.recordingsDir, rawFileName),
        },
        maxListeners: config.maxListeners,
      });
      if (engine !== requested) {
        live.engine = engine;
        await setActiveStreamEngine(db, sessionId, engine);
      }
      live.unwatch = await this.deps.watchUser(owner.id, (raw) => this.onOwnerEvent(live, raw));
    } catch (err) {
      markReady();
      await this.abortStart(live, err);
      if (err instanceof StreamError) throw err;
      throw new StreamError('MEDIA_UNAVAILABLE', 'The media server could not start your stream; please try again.');
    }
    markReady();
    this.deps.log.info({ sessionId, user: owner.username, engine: live.engine }, 'stream started');
    await this.publishStatus(owner.id, owner.username, { is_streaming: true, started_at: startedAt });
    return { session_id: sessionId, started_at: startedAt, engine: live.engine, atten_lim_db: live.denoise.attenLimDb };
  }

  /** A friendship of the broadcaster ended: that person may no longer listen. */
  private onOwnerEvent(live: LiveStream, raw: string): void {
    if (!raw.includes('"friend_removed"')) return;
    const msg = JSON.parse(raw) as { type?: string; username?: string };
    if (msg.type !== 'friend_removed') return;
    for (const entry of [...this.listeners.values()]) {
      if (entry.sessionId !== live.sessionId || entry.username !== msg.username) continue;
      this.track(this.dropListener(entry, notFriends()), { sessionId: live.sessionId, listener: entry.username }, 'dropping an ex-friend listener failed');
    }
  }

  private async abortStart(live: LiveStream, cause: unknown): Promise<void> {
    this.deps.log.error({ sessionId: live.sessionId, user: live.owner.username, err: cause }, 'starting a stream failed');
    this.bySession.delete(live.sessionId);
    this.byUser.delete(live.owner.id);
    await live.unwatch?.();
    if (this.deps.media.hasSession(live.sessionId)) {
      await this.deps.media.stopSession(live.sessionId, 'stopped').catch((err: unknown) =>
        this.deps.log.error({ sessionId: live.sessionId, err }, 'stopping a half-started session failed'),
      );
    }
    await releaseActiveStream(this.deps.db, live.sessionId);
    if (live.recordingId !== null) await this.deps.recordings.discard(live.recordingId);
  }

  /** Broadcaster offer → answer, only for the caller's own live session. */
  async answerBroadcaster(owner: StreamUser, sessionId: string, sdp: string): Promise<string> {
    const live = this.bySession.get(sessionId);
    if (!live || live.owner.id !== owner.id || live.ending) {
      throw new StreamError('NO_SUCH_STREAM', 'That stream is not yours or is no longer live.');
    }
    await live.ready;
    if (!this.bySession.has(sessionId)) throw new StreamError('NO_SUCH_STREAM', 'That stream is no longer live.');
    try {
      return await this.deps.media.answerBroadcaster(sessionId, sdp);
    } catch (err) {
      throw mapMediaError(err);
    }
  }

  async addListener(listener: StreamUser, broadcaster: StreamUser | null, sdp: string): Promise<{ sdp: string; listener_id: string }> {
    if (!broadcaster || broadcaster.id === listener.id || !(await this.deps.areFriends(listener.id, broadcaster.id))) throw notFriends();
    const live = this.byUser.get(broadcaster.id);
    if (!live || live.ending) throw new StreamError('NOT_STREAMING', `${broadcaster.username} is not live right now.`, 404);
    await live.ready;
    if (!this.bySession.has(live.sessionId) || live.ending) throw new StreamError('NOT_STREAMING', `${broadcaster.username} is not live right now.`, 404);
    const { maxListenersPerUser } = this.deps.config;
    let held = 0;
    for (const e of this.listeners.values()) if (e.sessionId === live.sessionId && e.userId === listener.id) held++;
    if (held >= maxListenersPerUser) {
      throw new StreamError(
        'USER_LISTENER_LIMIT',
        `You are already listening to ${broadcaster.username} ${held} times (at most ${maxListenersPerUser}); close another tab or device first.`,
      );
    }
    // Registered before anything is awaited: from here on friend_removed, going offline and the end of the stream find it.
    const entry: ListenerEntry = { listenerId: randomUUID(), sessionId: live.sessionId, userId: listener.id, username: listener.username, revoked: null };
    this.listeners.set(entry.listenerId, entry);
    try {
      // An unfriend committed before the registration published friend_removed before it could be seen: ask again.
      if (!(await this.deps.areFriends(listener.id, broadcaster.id))) entry.revoked ??= notFriends();
      if (entry.revoked) throw entry.revoked;
      let answer: string;
      try {
        answer = await this.deps.media.addListener(live.sessionId, entry.listenerId, sdp);
      } catch (err) {
        throw entry.revoked ?? mapMediaError(err);
      }
      if (entry.revoked) {
        // Dropped while the media plane was answering: its removal may have reached the worker first.
        await this.removeFromMedia(entry);
        throw entry.revoked;
      }
      return { sdp: answer, listener_id: entry.listenerId };
    } catch (err) {
      if (this.listeners.get(entry.listenerId) === entry) this.listeners.delete(entry.listenerId);
      throw err;
    }
  }

  async removeListener(listener: StreamUser, listenerId: string): Promise<void> {
    const entry = this.listeners.get(listenerId);
    if (!entry || entry.userId !== listener.id) throw new StreamError('NO_SUCH_LISTENER', 'You are not listening with that id.');
    await this.dropListener(entry, new StreamError('NO_SUCH_LISTENER', 'You stopped listening.'));
  }

  /** Revokes the entry (a request still setting it up fails with `why`) and removes its peer from the media plane. */
  private async dropListener(entry: ListenerEntry, why: StreamError): Promise<void> {
    entry.revoked ??= why;
    this.listeners.delete(entry.listenerId);
    await this.removeFromMedia(entry);
  }

  private async removeFromMedia(entry: ListenerEntry): Promise<void> {
    if (!this.deps.media.hasSession(entry.sessionId)) return;
    try {
      await this.deps.media.removeListener(entry.sessionId, entry.listenerId);
    } catch (err) {
      if (err instanceof MediaError && err.code === 'no-such-session') return;
      throw err;
    }
  }

  async setDenoise(owner: StreamUser, params: DenoiseParams): Promise<void> {
    const live = this.liveOf(owner.id);
    await live.ready;
    try {
      await this.deps.media.setDenoiseParams(live.sessionId, params);
    } catch (err) {
      throw mapMediaError(err);
    }
    live.denoise = params;
  }

  /** Stop button / sendBeacon. */
  async stop(owner: StreamUser): Promise<EndResult> {
    const live = this.liveOf(owner.id);
    const result = await this.end(live.sessionId, 'stopped');
    if (!result) throw new StreamError('NOT_STREAMING', 'You are not live.');
    return result;
  }

  /** The user's last presence WebSocket closed: end their stream and drop their listener connections. */
  async userOffline(userId: number): Promise<void> {
    const live = this.byUser.get(userId);
    const ends: Promise<unknown>[] = [];
    if (live) ends.push(this.end(live.sessionId, 'stopped'));
    const offline = new StreamError('INVALID_STATE', 'You went offline; listening stopped.');
    for (const entry of [...this.listeners.values()]) if (entry.userId === userId) ends.push(this.dropListener(entry, offline));
    const failed = (await Promise.allSettled(ends)).filter((r) => r.status === 'rejected');
    if (failed.length > 0) throw (failed[0] as PromiseRejectedResult).reason;
  }

  /** Ends the session exactly once; later callers get the same result; null for an unknown session. */
  end(sessionId: string, reason: SessionEndReason, summary?: SessionSummary): Promise<EndResult | null> {
    const live = this.bySession.get(sessionId);
    if (!live) return Promise.resolve(null);
    live.ending ??= this.finish(live, reason, summary ?? null);
    return live.ending;
  }

  private async finish(live: LiveStream, reason: SessionEndReason, given: SessionSummary | null): Promise<EndResult> {
    const { db, media, log } = this.deps;
    await live.ready;
    let summary = given;
    if (!summary) {
      try {
        summary = await media.stopSession(live.sessionId, reason);
      } catch (err) {
        log.error({ sessionId: live.sessionId, user: live.owner.username, err }, 'media plane failed to stop a session');
      }
    }
    for (const entry of [...this.listeners.values()]) {
      if (entry.sessionId !== live.sessionId) continue;
      entry.revoked ??= new StreamError('NOT_STREAMING', `${live.owner.username} is not live right now.`, 404);
      this.listeners.delete(entry.listenerId);
    }
    await live.unwatch?.().catch((err: unknown) => log.error({ sessionId: live.sessionId, err }, 'unsubscribing from the owner events failed'));
    let recording: Record<string, unknown> | null = null;
    try {
      if (live.recordingId !== null) {
        recording = await this.deps.recordings.finalize({ recordingId: live.recordingId, ownerId: live.owner.id, endedAt: nowIso(), summary });
      }
    } catch (err) {
      log.error({ sessionId: live.sessionId, user: live.owner.username, err }, 'finalizing the recording row failed');
    }
    try {
      await releaseActiveStream(db, live.sessionId);
    } finally {
      this.bySession.delete(live.sessionId);
      if (this.byUser.get(live.owner.id) === live) this.byUser.delete(live.owner.id);
    }
    log.info({ sessionId: live.sessionId, user: live.owner.username, reason }, 'stream ended');
    await this.publishStatus(live.owner.id, live.owner.username, { is_streaming: false });
    return { sessionId: live.sessionId, reason, recording };
  }

  /**
   * A node died (cluster): its live streams end for everyone. Releasing each row is the exactly-once guard
   * (the dead node's own next start finds nothing left to release); the recording row is marked
   * 'interrupted' so it is not 'recording' forever, and its file is repaired by that node's next start.
   */
  async endStreamsOfNode(nodeId: string): Promise<number> {
    const { db, log } = this.deps;
    let ended = 0;
    for (const row of await activeStreamsOfNode(db, nodeId)) {
      if (!(await releaseActiveStream(db, row.session_id))) continue;
      ended++;
      if (row.recording_id !== null) await interruptRecording(db, row.recording_id, nowIso());
      log.warn({ sessionId: row.session_id, userId: row.user_id, node: nodeId }, 'ended a live stream of a dead node');
      await this.publishStatus(row.user_id, null, { is_streaming: false });
    }
    return ended;
  }

  /** Server shutdown: every session ends gracefully (recordings finalized, friends told). */
  async closeAll(): Promise<void> {
    this.closing = true;
    const ends = [...this.bySession.keys()].map((id) => this.end(id, 'shutdown'));
    const results = await Promise.allSettled(ends);
    for (const r of results) if (r.status === 'rejected') this.deps.log.error({ err: r.reason }, 'ending a stream at shutdown failed');
    this.deps.media.off('sessionEnded', this.onSessionEnded);
    this.deps.media.off('listenerCountChanged', this.onListenerCount);
    this.deps.media.off('listenerEnded', this.onListenerEnded);
    this.deps.media.off('recordingFailed', this.onRecordingFailed);
  }

  ownStatus(userId: number): OwnStatus {
    const live = this.byUser.get(userId);
    if (!live || live.ending) {
      return { is_streaming: false, started_at: null, listeners: 0, engine: null, session_id: null, atten_lim_db: null };
    }
    return {
      is_streaming: true,
      started_at: live.startedAt,
      listeners: this.listenerCount(live),
      engine: live.engine,
      session_id: live.sessionId,
      atten_lim_db: live.denoise.attenLimDb,
    };
  }

  /** Live state of some users (friends), read from the ActiveStream rows so it is right across nodes. */
  async liveStates(userIds: readonly number[]): Promise<Map<number, { started_at: string; listeners: number }>> {
    const out = new Map<number, { started_at: string; listeners: number }>();
    for (const row of await activeStreamsOfUsers(this.deps.db, userIds)) {
      const live = this.bySession.get(row.session_id);
      if (live?.ending) continue;
      out.set(row.user_id, { started_at: row.started_at, listeners: live ? this.listenerCount(live) : 0 });
    }
    return out;
  }

  /** Whether this node hosts `userId`'s live stream. */
  hostsUser(userId: number): boolean {
    return this.byUser.has(userId);
  }

  /** Whether this node hosts the media session `sessionId`. */
  hostsSession(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /** Whether a listener with this id is connected to a stream on this node. */
  hasListener(listenerId: string): boolean {
    return this.listeners.has(listenerId);
  }

  /** Live streams hosted on this node. */
  count(): number {
    return this.bySession.size;
  }

  /** Session ids currently registered on this node (tests and shutdown checks). */
  sessionIds(): string[] {
    return [...this.bySession.keys()];
  }

  private listenerCount(live: LiveStream): number {
    return this.deps.media.hasSession(live.sessionId) ? this.deps.media.listenerCount(live.sessionId) : 0;
  }

  private liveOf(userId: number): LiveStream {
    const live = this.byUser.get(userId);
    if (!live || live.ending) throw new StreamError('NOT_STREAMING', 'You are not live.');
    return live;
  }

  private async publishStatus(userId: number, username: string | null, state: { is_streaming: boolean; started_at?: string }): Promise<void> {
    const name = username ?? (await this.usernameOf(userId));
    if (name === null) return;
    await this.deps.notifier.toUserAndFriends(userId, { type: 'streaming_status', username: name, ...state });
  }

  private async usernameOf(userId: number): Promise<string | null> {
    const row = await this.deps.db.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirst();
    return row?.username ?? null;
  }

  private track(p: unknown, ctx: object, msg: string): void {
    Promise.resolve(p).catch((err: unknown) => this.deps.log.error({ ...ctx, err }, msg));
  }
}

function notFriends(): StreamError {
  return new StreamError('NOT_FRIENDS', 'Only friends of a broadcaster can listen to their stream.');
}

/**
 * A media-plane failure as the client sees it: a stable code and a fixed sentence. The media
 * plane's own message (which may carry werift's exception text) never reaches a response body.
 */
function mapMediaError(err: unknown): unknown {
  if (!(err instanceof MediaError)) return err;
  switch (err.code) {
    case 'bad-sdp':
      return new StreamError('BAD_SDP', 'The SDP offer could not be used; send an offer from a current browser.');
    case 'listener-limit':
      return new StreamError('LISTENER_LIMIT', 'This stream has reached its maximum number of listeners.');
    case 'no-such-session':
      return new StreamError('NO_SUCH_STREAM', 'That stream is no longer live.');
    case 'invalid-state':
      return new StreamError('INVALID_STATE', 'The stream cannot take this connection now (it already has one, or it has ended).');
    case 'worker-unavailable':
      return new StreamError('MEDIA_UNAVAILABLE', 'The media server is unavailable; please try again.');
  }
}
