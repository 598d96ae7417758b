// Entry point of a media worker thread: owns its sessions and the one hop
// clock that drives them. Speaks only the protocol of worker-protocol.ts.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { Config, DenoiseEngineName } from '../../config.js';
import type { Denoiser } from '../../denoise/denoiser.js';
import { loadEngineRuntime, type EngineRuntime } from '../../denoise/engines.js';
import { HopClock } from './hop-clock.js';
import { LatencyHistogram } from '../session/latency-histogram.js';
import { MediaError, type SessionSummary } from '../media-plane.js';
import { OpusDecoder } from '../session/opus-decoder.js';
import { OpusEncoder } from '../session/opus-encoder.js';
import { requestRealtimePriority, type ThreadScheduling } from './realtime-priority.js';
import { messageOf, StreamSession } from '../session/stream-session.js';
import {
  WorkerRequestSchema,
  type WorkerMessage,
  type WorkerRequest,
  type WorkerStats,
} from './worker-protocol.js';

export interface MediaWorkerData {
  config: Config;
  index: number;
}

/** Hop errors tolerated per session before it is ended (a persistent fault, not a glitch). */
const MAX_HOP_ERRORS = 100;

interface LoadedRuntime {
  runtime: EngineRuntime;
  fallbackReason: string | null;
}

interface Entry {
  session: StreamSession;
  runtime: EngineRuntime;
  /** Where processMany writes this session's denoised frame. */
  output: Float32Array;
  hopErrors: number;
}

/** Sessions of one runtime, in the arrays processMany takes (rebuilt when sessions change, not per hop). */
interface Group {
  runtime: EngineRuntime;
  entries: Entry[];
  streams: Denoiser[];
  inputs: Float32Array[];
  outputs: Float32Array[];
}

class MediaWorker {
  private readonly runtimes = new Map<DenoiseEngineName, Promise<LoadedRuntime>>();
  private readonly entries = new Map<string, Entry>();
  private groups: Group[] = [];
  private readonly clock = new HopClock((now) => this.hop(now));
  /** Time per hop in each phase, summed over the groups: where a slow hop's time went. */
  private readonly phases = { pull: new LatencyHistogram(0.05, 100), denoise: new LatencyHistogram(0.05, 100), deliver: new LatencyHistogram(0.05, 100) };
  private shuttingDown = false;
  private scheduling: ThreadScheduling = { tid: null, policy: 'unknown', priority: 0, fallback: null };

  constructor(
    private readonly config: Config,
    private readonly send: (msg: WorkerMessage) => void,
  ) {}

  async init(): Promise<void> {
    this.scheduling = requestRealtimePriority(this.config.mediaRtPriority);
    if (this.scheduling.fallback !== null) {
      this.log('warn', 'media worker runs without real-time priority: hops may be late on a busy machine', { reason: this.scheduling.fallback });
    }
    const { runtime, fallbackReason } = await this.runtime(this.config.denoiseEngine);
    warmUp(runtime);
    this.send({ type: 'ready', engine: runtime.engine, fallbackReason });
  }

  private runtime(engine: DenoiseEngineName): Promise<LoadedRuntime> {
    let loaded = this.runtimes.get(engine);
    if (!loaded) {
      loaded = loadEngineRuntime(engine, this.config, {
        warn: (fields, message) => this.log('warn', message, fields as Record<string, unknown>),
      });
      this.runtimes.set(engine, loaded);
      loaded.catch(() => this.runtimes.delete(engine));
    }
    return loaded;
  }

  async handle(raw: unknown): Promise<void> {
    const parsed = WorkerRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'number' ? raw.id : -1;
      this.log('error', 'malformed request from the main thread', { issue: parsed.error.issues[0]?.message });
      if (id >= 0) this.send({ type: 'failure', id, error: { code: 'internal', message: 'malformed request' } });
      return;
    }
    const req = parsed.data;
    try {
      const result = await this.execute(req);
      this.send({ type: 'response', id: req.id, result });
    } catch (err) {
      const code = err instanceof MediaError ? err.code : 'internal';
      if (code === 'internal') this.log('error', 'request failed', { type: req.type, error: messageOf(err), stack: (err as Error)?.stack });
      this.send({ type: 'failure', id: req.id, error: { code, message: messageOf(err) } });
    }
  }

  private async execute(req: WorkerRequest): Promise<unknown> {
    switch (req.type) {
      case 'start-session': {
        if (this.shuttingDown) throw new MediaError('worker-unavailable', 'the media worker is shutting down');
        if (this.entries.has(req.opts.sessionId)) throw new MediaError('invalid-state', `session ${req.opts.sessionId} exists`);
        const { runtime, fallbackReason } = await this.runtime(req.opts.engine);
        const denoiser = runtime.createStream(req.opts.denoise);
        const id = req.opts.sessionId;
        const session = new StreamSession(req.opts, denoiser, this.config, {
          ended: (summary, reason) => {
            this.forget(id);
            this.send({ type: 'session-ended', summary, reason });
          },
          listenerCount: (listeners) => this.send({ type: 'listener-count', sessionId: id, listeners }),
          listenerEnded: (listenerId, reason) => this.send({ type: 'listener-ended', sessionId: id, listenerId, reason }),
          recordingFailed: (message) => this.send({ type: 'recording-failed', sessionId: id, message }),
          warn: (message, fields) => this.log('warn', message, fields ?? {}),
        });
        this.entries.set(id, { session, runtime, output: new Float32Array(480), hopErrors: 0 });
        this.regroup();
        return { engine: runtime.engine, fallbackReason };
      }
      case 'answer-broadcaster':
        return { sdp: await this.session(req.sessionId).answerBroadcaster(req.sdp) };
      case 'add-listener':
        return { sdp: await this.session(req.sessionId).addListener(req.listenerId, req.sdp) };
      case 'remove-listener':
        await this.entries.get(req.sessionId)?.session.removeListener(req.listenerId);
        return {};
      case 'set-denoise-params':
        this.session(req.sessionId).setDenoiseParams(req.params);
        return {};
      case 'stop-session': {
        const entry = this.entries.get(req.sessionId);
        if (!entry) return { summary: null };
        this.forget(req.sessionId);
        return { summary: await entry.session.close() };
      }
      case 'stats':
        return this.stats(req.resetLatency);
      case 'shutdown': {
        this.shuttingDown = true;
        const summaries: SessionSummary[] = [];
        for (const [id, entry] of [...this.entries]) {
          this.forget(id);
          summaries.push(await entry.session.close());
        }
        this.clock.stop();
        for (const loaded of this.runtimes.values()) {
          await loaded.then((l) => l.runtime.close()).catch(() => {});
        }
        return { summaries };
      }
    }
  }

  private session(sessionId: string): StreamSession {
    const entry = this.entries.get(sessionId);
    if (!entry) throw new MediaError('no-such-session', `no live session ${sessionId}`);
    return entry.session;
  }

  private forget(sessionId: string): void {
    if (this.entries.delete(sessionId)) this.regroup();
  }

  private regroup(): void {
    const byRuntime = new Map<EngineRuntime, Group>();
    for (const entry of this.entries.values()) {
      let g = byRuntime.get(entry.runtime);
      if (!g) {
        g = { runtime: entry.runtime, entries: [], streams: [], inputs: [], outputs: [] };
        byRuntime.set(entry.runtime, g);
      }
      g.entries.push(entry);
      g.streams.push(entry.session.denoiser);
      g.inputs.push(entry.session.input);
      g.outputs.push(entry.output);
    }
    this.groups = [...byRuntime.values()];
    if (this.entries.size > 0) this.clock.start();
    else this.clock.stop();
  }

  /** One 10 ms hop for every session: pull, denoise (batched per runtime), deliver. */
  private hop(now: number): void {
    const groups = this.groups;
    let pullMs = 0;
    let denoiseMs = 0;
    let deliverMs = 0;
    for (let g = 0; g < groups.length; g++) {
      const group = groups[g]!;
      const entries = group.entries;
      const t0 = performance.now();
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        try {
          e.session.pull(now);
        } catch (err) {
          this.hopFailed(e, 'pull', err);
        }
      }
      const t1 = performance.now();
      const many = group.runtime.processMany;
      let batched = false;
      if (many !== undefined && entries.length > 1) {
        try {
          many.call(group.runtime, group.streams, group.inputs, group.outputs);
          batched = true;
        } catch (err) {
          this.log('error', 'processMany failed; denoising stream by stream', { engine: group.runtime.engine, error: messageOf(err) });
        }
      }
      let denoiseOneByOne = 0;
      const t2 = performance.now();
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        try {
          let out = e.output;
          if (!batched) {
            const t = performance.now();
            out = e.session.denoiser.process(e.session.input);
            denoiseOneByOne += performance.now() - t;
          }
          e.session.deliver(out);
        } catch (err) {
          this.hopFailed(e, 'denoise/deliver', err);
        }
      }
      const t3 = performance.now();
      pullMs += t1 - t0;
      denoiseMs += t2 - t1 + denoiseOneByOne;
      deliverMs += t3 - t2 - denoiseOneByOne;
    }
    this.phases.pull.record(pullMs);
    this.phases.denoise.record(denoiseMs);
    this.phases.deliver.record(deliverMs);
  }

  private hopFailed(entry: Entry, stage: string, err: unknown): void {
    entry.hopErrors++;
    if (entry.hopErrors === 1) {
      this.log('error', `hop ${stage} failed`, { sessionId: entry.session.id, error: messageOf(err), stack: (err as Error)?.stack });
    }
    if (entry.hopErrors === MAX_HOP_ERRORS) {
      const id = entry.session.id;
      this.forget(id);
      void entry.session.close().then((summary) => this.send({ type: 'session-ended', summary, reason: 'worker-crashed' }));
    }
  }

  private stats(resetLatency: boolean): WorkerStats {
    const perSession = [...this.entries.values()].map((e) => e.session.stats());
    const clock = this.clock.stats();
    const phases = {
      pull: this.phases.pull.toJSON(),
      denoise: this.phases.denoise.toJSON(),
      deliver: this.phases.deliver.toJSON(),
    };
    if (resetLatency) {
      for (const e of this.entries.values()) e.session.resetLatencyStats();
      this.clock.resetStats();
      for (const h of Object.values(this.phases)) h.reset();
    }
    return {
      sessions: this.entries.size,
      listeners: perSession.reduce((n, s) => n + s.listeners, 0),
      clock,
      phases,
      scheduling: this.scheduling,
      perSession,
    };
  }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown>): void {
    this.send({ type: 'log', level, message, fields });
  }
}

/**
 * Runs the codecs and the engine once before the first session: the first calls into
 * WebAssembly and native code compile and allocate (tens of ms), which would otherwise
 * land inside the first live hops and stall the clock.
 */
function warmUp(runtime: EngineRuntime): void {
  const encoder = new OpusEncoder();
  const decoder = new OpusDecoder();
  const frame = new Float32Array(960);
  const out = new Float32Array(5760);
  const denoiser = runtime.createStream({ attenLimDb: null });
  for (let i = 0; i < 50; i++) {
    for (let j = 0; j < frame.length; j++) frame[j] = 0.1 * Math.sin((i * 960 + j) * 0.05);
    const packet = encoder.encode(frame, 960);
    decoder.decode(packet, out, 0);
    if (i % 10 === 3) decoder.decodeFec(packet, 960, out, 0);
    if (i % 10 === 7) decoder.conceal(960, out, 0);
    denoiser.process(frame.subarray(0, 480));
  }
  denoiser.close();
  decoder.close();
  encoder.close();
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as MediaWorkerData;
  const worker = new MediaWorker(data.config, (msg) => port.postMessage(msg));
  port.on('message', (msg: unknown) => {
    void worker.handle(msg);
  });
  worker.init().catch((err) => {
    // No 'ready': the supervisor's handshake fails with this reason.
    port.postMessage({ type: 'log', level: 'error', message: 'media worker failed to start', fields: { error: messageOf(err) } });
    process.exit(1);
  });
}
