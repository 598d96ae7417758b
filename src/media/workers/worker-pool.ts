// The MediaPlane the control plane uses: a supervised pool of media workers.
// A session is pinned to the least loaded worker when it starts and stays
// there; every call about it is a numbered request to that worker. A worker
// that dies has its sessions reported ended ('worker-crashed') and is
// restarted, so the next stream finds a full pool again.
import type { Config, DenoiseEngineName } from '../../config.js';
import type { DenoiseParams } from '../../denoise/denoiser.js';
import {
  MediaError,
  type MediaPlane,
  type MediaPlaneEvents,
  type SessionEndReason,
  type SessionSummary,
  type StartSessionOptions,
} from '../media-plane.js';
import { MediaWorkerClient, type MediaLog } from './media-worker-client.js';
import { MAX_SDP_BYTES } from '../transport/peer-config.js';
import { SdpResultSchema, StartResultSchema, StopResultSchema, type WorkerStats } from './worker-protocol.js';

export type { MediaLog } from './media-worker-client.js';

const RESTART_DELAYS_MS = [200, 1000, 5000, 15_000];

export interface MediaPlaneOptions {
  /** Worker count (default config.mediaWorkers). */
  workers?: number;
}

type Listeners = { [E in keyof MediaPlaneEvents]: Set<MediaPlaneEvents[E]> };

export async function createMediaPlane(config: Config, log: MediaLog, options: MediaPlaneOptions = {}): Promise<WorkerPoolMediaPlane> {
  const plane = new WorkerPoolMediaPlane(config, log, options.workers ?? config.mediaWorkers);
  try {
    await plane.start();
  } catch (err) {
    await plane.close();
    throw err;
  }
  return plane;
}

export class WorkerPoolMediaPlane implements MediaPlane {
  private readonly clients: MediaWorkerClient[] = [];
  private readonly home = new Map<string, MediaWorkerClient>();
  private readonly stopping = new Map<string, Promise<SessionSummary | null>>();
  private readonly listeners: Listeners = {
    sessionEnded: new Set(),
    recordingFailed: new Set(),
    listenerCountChanged: new Set(),
    listenerEnded: new Set(),
  };
  private closed = false;
  private status: { engine: DenoiseEngineName; fallbackReason: string | null } = { engine: 'none', fallbackReason: null };
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly config: Config,
    private readonly log: MediaLog,
    private readonly workerCount: number,
  ) {}

  async start(): Promise<void> {
    const started = await Promise.all(
      Array.from({ length: Math.max(1, this.workerCount) }, async (_, i) => {
        const client = this.newClient(i);
        this.clients[i] = client;
        await client.start();
        return client;
      }),
    );
    this.status = { engine: started[0]!.engine, fallbackReason: started[0]!.fallbackReason };
    if (this.status.fallbackReason) {
      this.log.warn({ requested: this.config.denoiseEngine, engine: this.status.engine, reason: this.status.fallbackReason }, 'denoise engine fell back');
    }
  }

  private newClient(index: number): MediaWorkerClient {
    return new MediaWorkerClient(index, this.config, this.log, {
      sessionEnded: (summary, reason) => {
        this.home.delete(summary.sessionId);
        this.emit('sessionEnded', summary, reason);
      },
      listenerCount: (sessionId, n) => this.emit('listenerCountChanged', sessionId, n),
      listenerEnded: (sessionId, listenerId, reason) => this.emit('listenerEnded', sessionId, listenerId, reason),
      recordingFailed: (sessionId, message) => this.emit('recordingFailed', sessionId, message),
      exited: (client, why) => this.restart(client, why, 0),
    });
  }

  private restart(dead: MediaWorkerClient, why: string, attempt: number): void {
    if (this.closed) return;
    this.log.error({ worker: dead.index, why, attempt }, 'media worker lost; restarting it');
    const delay = RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]!;
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      if (this.closed) return;
      const fresh = this.newClient(dead.index);
      this.clients[dead.index] = fresh;
      fresh.start().then(
        () => {
          if (this.closed) void fresh.close();
          else this.log.info({ worker: dead.index }, 'media worker restarted');
        },
        (err) => {
          this.log.error({ worker: dead.index, err }, 'media worker restart failed');
          this.restart(fresh, String(err), attempt + 1);
        },
      );
    }, delay);
    this.restartTimers.add(timer);
  }

  /** The alive worker with the fewest sessions (then listeners). */
  private leastLoaded(): MediaWorkerClient {
    let best: MediaWorkerClient | null = null;
    let bestLoad = Infinity;
    for (const c of this.clients) {
      if (!c?.alive) continue;
      let listeners = 0;
      for (const n of c.listeners.values()) listeners += n;
      const load = c.sessions.size * 1000 + listeners;
      if (load < bestLoad) {
        best = c;
        bestLoad = load;
      }
    }
    if (!best) throw new MediaError('worker-unavailable', 'no media worker is running');
    return best;
  }

  private clientOf(sessionId: string): MediaWorkerClient {
    const client = this.home.get(sessionId);
    if (!client) throw new MediaError('no-such-session', `no live session ${sessionId}`);
    return client;
  }

  async startSession(opts: StartSessionOptions): Promise<{ engine: DenoiseEngineName }> {
    if (this.closed) throw new MediaError('worker-unavailable', 'the media plane is closed');
    if (this.home.has(opts.sessionId)) throw new MediaError('invalid-state', `session ${opts.sessionId} already exists`);
    const client = this.leastLoaded();
    this.home.set(opts.sessionId, client);
    client.sessions.set(opts.sessionId, opts.engine);
    try {
      const result = StartResultSchema.parse(await client.request({ type: 'start-session', opts }));
      client.sessions.set(opts.sessionId, result.engine);
      return { engine: result.engine };
    } catch (err) {
      client.sessions.delete(opts.sessionId);
      this.home.delete(opts.sessionId);
      throw err;
    }
  }

  async answerBroadcaster(sessionId: string, offerSdp: string): Promise<string> {
    checkSdpSize(offerSdp);
    const result = await this.clientOf(sessionId).request({ type: 'answer-broadcaster', sessionId, sdp: offerSdp });
    return SdpResultSchema.parse(result).sdp;
  }

  async addListener(sessionId: string, listenerId: string, offerSdp: string): Promise<string> {
    checkSdpSize(offerSdp);
    const result = await this.clientOf(sessionId).request({ type: 'add-listener', sessionId, listenerId, sdp: offerSdp });
    return SdpResultSchema.parse(result).sdp;
  }

  async removeListener(sessionId: string, listenerId: string): Promise<void> {
    const client = this.home.get(sessionId);
    if (!client) return;
    await client.request({ type: 'remove-listener', sessionId, listenerId });
  }

  async setDenoiseParams(sessionId: string, params: DenoiseParams): Promise<void> {
    await this.clientOf(sessionId).request({ type: 'set-denoise-params', sessionId, params });
  }

  stopSession(sessionId: string, reason: SessionEndReason): Promise<SessionSummary | null> {
    const inFlight = this.stopping.get(sessionId);
    if (inFlight) return inFlight;
    const client = this.home.get(sessionId);
    if (!client) return Promise.resolve(null);
    const p = client
      .request({ type: 'stop-session', sessionId, reason })
      .then((r) => StopResultSchema.parse(r).summary)
      .finally(() => {
        this.stopping.delete(sessionId);
        this.home.delete(sessionId);
        client.sessions.delete(sessionId);
        client.listeners.delete(sessionId);
      });
    this.stopping.set(sessionId, p);
    return p;
  }

  listenerCount(sessionId: string): number {
    return this.home.get(sessionId)?.listeners.get(sessionId) ?? 0;
  }

  engineStatus(): { engine: DenoiseEngineName; fallbackReason: string | null } {
    return { ...this.status };
  }

  hasSession(sessionId: string): boolean {
    return this.home.has(sessionId);
  }

  /** Per-worker clock and session statistics (benchmarks, diagnostics). */
  async workerStats(resetLatency = false): Promise<WorkerStats[]> {
    return Promise.all(this.clients.filter((c) => c?.alive).map((c) => c.request<WorkerStats>({ type: 'stats', resetLatency })));
  }

  /** Test hook: crash the worker hosting a session. */
  async crashWorkerOf(sessionId: string): Promise<void> {
    await this.clientOf(sessionId).crashForTest();
  }

  on<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void {
    (this.listeners[event] as Set<MediaPlaneEvents[E]>).add(listener);
  }

  off<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void {
    (this.listeners[event] as Set<MediaPlaneEvents[E]>).delete(listener);
  }

  /** A faulty listener is logged and never stops the others (or the worker's message loop). */
  private emit<E extends keyof MediaPlaneEvents>(event: E, ...args: Parameters<MediaPlaneEvents[E]>): void {
    for (const listener of this.listeners[event] as Set<(...a: Parameters<MediaPlaneEvents[E]>) => void>) {
      try {
        listener(...args);
      } catch (err) {
        this.log.error({ err, event }, 'media plane event listener threw');
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const summaries = (await Promise.all(this.clients.filter(Boolean).map((c) => c.close()))).flat();
    for (const summary of summaries) {
      this.home.delete(summary.sessionId);
      this.emit('sessionEnded', summary, 'shutdown');
    }
    this.home.clear();
  }
}

/** The protocol caps SDP size; saying so here gives the caller 'bad-sdp' instead of a protocol error. */
function checkSdpSize(sdp: string): void {
  if (typeof sdp !== 'string' || sdp.length === 0) throw new MediaError('bad-sdp', 'empty SDP');
  if (sdp.length > MAX_SDP_BYTES) throw new MediaError('bad-sdp', `SDP larger than ${MAX_SDP_BYTES} bytes`);
}
