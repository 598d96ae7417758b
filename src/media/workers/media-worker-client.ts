// Main-thread handle of one media worker: spawns it (TypeScript, through
// tsx's loader), waits for its 'ready' handshake, numbers requests and
// matches responses, and turns the worker's death into clear errors: every
// pending request rejects with 'worker-unavailable' and every session it
// hosted is reported ended ('worker-crashed'). Restarting is the pool's call.
import { Worker } from 'node:worker_threads';
import type { Config, DenoiseEngineName } from '../../config.js';
import { type ListenerEndReason, MediaError, type MediaErrorCode, type SessionEndReason, type SessionSummary } from '../media-plane.js';
import type { MediaWorkerData } from './media-worker.js';
import { WorkerMessageSchema, type WorkerMessage, type WorkerRequestInput } from './worker-protocol.js';

export interface MediaLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WorkerClientEvents {
  sessionEnded(summary: SessionSummary, reason: SessionEndReason): void;
  listenerCount(sessionId: string, listeners: number): void;
  listenerEnded(sessionId: string, listenerId: string, reason: ListenerEndReason): void;
  recordingFailed(sessionId: string, message: string): void;
  /** The worker is gone (crash or exit) — not called after close(). */
  exited(client: MediaWorkerClient, why: string): void;
}

export const WORKER_START_TIMEOUT_MS = 30_000;
const WORKER_STOP_TIMEOUT_MS = 10_000;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

export class MediaWorkerClient {
  /** Sessions hosted here (the pool's load measure and the crash report). */
  readonly sessions = new Map<string, SessionSummary['engine']>();
  readonly listeners = new Map<string, number>();
  engine: DenoiseEngineName = 'none';
  fallbackReason: string | null = null;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closing = false;
  private gone = false;

  constructor(
    readonly index: number,
    private readonly config: Config,
    private readonly log: MediaLog,
    private readonly events: WorkerClientEvents,
  ) {}

  get alive(): boolean {
    return this.worker !== null && !this.gone && !this.closing;
  }

  /** Spawns the worker and resolves after its handshake (rejects on timeout or early death). */
  start(timeoutMs = WORKER_START_TIMEOUT_MS): Promise<void> {
    const data: MediaWorkerData & { entry: string } = {
      config: this.config,
      index: this.index,
      entry: new URL('./media-worker.ts', import.meta.url).href,
    };
    // Workers run our TypeScript through tsx like the main thread does (see media-worker-boot.mjs).
    const worker = new Worker(new URL('./media-worker-boot.mjs', import.meta.url), {
      workerData: data,
      name: `media-${this.index}`,
    });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (ready) return;
        reject(new Error(`media worker ${this.index} did not start within ${timeoutMs} ms`));
        void worker.terminate();
      }, timeoutMs);
      worker.on('message', (raw: unknown) => {
        const parsed = WorkerMessageSchema.safeParse(raw);
        if (!parsed.success) {
          this.log.error({ worker: this.index, issue: parsed.error.issues[0]?.message }, 'malformed message from a media worker');
          return;
        }
        const msg = parsed.data;
        if (msg.type === 'ready' && !ready) {
          ready = true;
          clearTimeout(timer);
          this.engine = msg.engine;
          this.fallbackReason = msg.fallbackReason;
          resolve();
          return;
        }
        this.onMessage(msg);
      });
      worker.on('error', (err) => {
        this.log.error({ worker: this.index, err }, 'media worker crashed');
        if (!ready) {
          clearTimeout(timer);
          reject(err);
        }
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`media worker ${this.index} exited with code ${code} before it was ready`));
        this.onExit(`exited with code ${code}`);
      });
    });
  }

  request<T>(msg: DistributiveOmit<WorkerRequestInput, 'id'>): Promise<T> {
    const worker = this.worker;
    if (!worker || this.gone) return Promise.reject(new MediaError('worker-unavailable', 'the media worker is not running'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      worker.postMessage({ ...msg, id });
    });
  }

  private onMessage(msg: WorkerMessage): void {
    switch (msg.type) {
      case 'ready':
        return;
      case 'response':
      case 'failure': {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if (msg.type === 'response') p.resolve(msg.result);
        else if (msg.error.code === 'internal') p.reject(new Error(`media worker: ${msg.error.message}`));
        else p.reject(new MediaError(msg.error.code as MediaErrorCode, msg.error.message));
        return;
      }
      case 'session-ended':
        this.sessions.delete(msg.summary.sessionId);
        this.listeners.delete(msg.summary.sessionId);
        this.events.sessionEnded(msg.summary, msg.reason);
        return;
      case 'listener-count':
        if (!this.sessions.has(msg.sessionId)) return;
        this.listeners.set(msg.sessionId, msg.listeners);
        this.events.listenerCount(msg.sessionId, msg.listeners);
        return;
      case 'listener-ended':
        if (this.sessions.has(msg.sessionId)) this.events.listenerEnded(msg.sessionId, msg.listenerId, msg.reason);
        return;
      case 'recording-failed':
        this.events.recordingFailed(msg.sessionId, msg.message);
        return;
      case 'log':
        this.log[msg.level]({ worker: this.index, ...msg.fields }, msg.message);
        return;
    }
  }

  private onExit(why: string): void {
    if (this.gone) return;
    this.gone = true;
    const error = new MediaError('worker-unavailable', `the media worker ${why}`);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (this.closing) return;
    const lost = [...this.sessions];
    this.sessions.clear();
    this.listeners.clear();
    for (const [sessionId, engine] of lost) {
      this.events.sessionEnded({ sessionId, engine, durationMs: 0, receivedAudioMs: null, recording: null }, 'worker-crashed');
    }
    this.events.exited(this, why);
  }

  /** Graceful: the worker stops its sessions (summaries returned), then exits; terminated if it hangs. */
  async close(): Promise<SessionSummary[]> {
    if (this.closing) return [];
    const worker = this.worker;
    if (!worker || this.gone) {
      this.closing = true;
      return [];
    }
    let summaries: SessionSummary[] = [];
    try {
      const result = await withTimeout(this.request<{ summaries: SessionSummary[] }>({ type: 'shutdown' }), WORKER_STOP_TIMEOUT_MS);
      summaries = result.summaries;
    } catch (err) {
      this.log.warn({ worker: this.index, err }, 'media worker did not shut down cleanly; terminating it');
    }
    this.closing = true;
    this.sessions.clear();
    await worker.terminate();
    return summaries;
  }

  /** Test hook: kill the thread as a crash would. */
  async crashForTest(): Promise<void> {
    await this.worker?.terminate();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
