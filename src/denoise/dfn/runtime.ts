// The dfn3 engine: one stateful ONNX session per runtime (per media worker) and many streams
// (dfn3-stream.ts).
// Streams keep their model state in batch-sized arenas, one slot per stream, so processMany()
// runs every stream's hop in ONE session.run over the slots [0, B) without copying state:
// outputs go to the other arena of a pair and the pair's parity flips. Streams are moved to
// the front slots (a swap) only when the set or order of streams in a call changes.
import type { DenoiseEngineName } from '../../config.js';
import type { DenoiseParams, Denoiser } from '../denoiser.js';
import { FRAME_SIZE, SAMPLE_RATE } from '../denoiser.js';
import type { EngineRuntime } from '../engine-runtime.js';
import type { StageThresholds } from './deep-filter.js';
import type { DfnParams } from './dfn-config.js';
import { type StatefulGraph, buildStatefulGraph } from './graph-rewrite.js';
import { DfnModelError, readDfnModel } from './model-files.js';
import { Dfn3Stream, type Dfn3StreamHost } from './dfn3-stream.js';
import { DfnDspShared, type DfnStreamDsp } from './stream-dsp.js';
import { type Feeds, type Fetches, SyncSession, tensor } from './sync-session.js';

export interface Dfn3RuntimeOptions {
  /** Check the graphs' SHA-256 against the official release (default true). */
  verify?: boolean;
  thresholds?: StageThresholds;
  /** Post-filter beta; 0 (default) = off. */
  postFilterBeta?: number;
  /** Streams the arenas hold before they grow (doubling). */
  initialCapacity?: number;
}

/** Loads and rewrites the model; throws DfnModelError with a clear reason for a missing or corrupt model. */
export async function loadDfn3Runtime(modelDir: string, opts: Dfn3RuntimeOptions = {}): Promise<Dfn3Runtime> {
  const files = await readDfnModel(modelDir, { verify: opts.verify ?? true });
  const p = files.params;
  if (p.sr !== SAMPLE_RATE || p.hopSize !== FRAME_SIZE) {
    throw new DfnModelError(`${modelDir}: model runs at ${p.sr} Hz with ${p.hopSize}-sample hops; hushcast needs ${SAMPLE_RATE} Hz and ${FRAME_SIZE}`);
  }
  let graph: StatefulGraph;
  try {
    graph = buildStatefulGraph(files.graphs['enc.onnx'], files.graphs['erb_dec.onnx'], files.graphs['df_dec.onnx']);
  } catch (e) {
    throw new DfnModelError(`${modelDir}: ${(e as Error).message}`);
  }
  let session: SyncSession;
  try {
    session = new SyncSession(graph.bytes);
  } catch (e) {
    throw new DfnModelError(`${modelDir}: onnxruntime cannot load the rewritten graph: ${(e as Error).message}`);
  }
  const runtime = new Dfn3Runtime(p, graph, session, opts);
  try {
    runtime.selfCheck();
  } catch (e) {
    await runtime.close();
    throw new DfnModelError(`${modelDir}: the model does not run with the DSP of config.ini: ${(e as Error).message}`);
  }
  return runtime;
}

interface RunViews {
  feeds: Feeds;
  fetches: Fetches;
}

export class Dfn3Runtime implements EngineRuntime, Dfn3StreamHost {
  readonly engine: DenoiseEngineName = 'dfn3';
  readonly shared: DfnDspShared;
  private capacity = 0;
  private slots: (Dfn3Stream | null)[] = [];
  private parity = new Uint8Array(0);
  /** arenas[parity][state] holds `capacity` slots of states[state].perStream floats. */
  private arenas: [Float32Array[], Float32Array[]] = [[], []];
  private readonly perStream: number[];
  private readonly swapTmp: Float32Array[];
  private featErb = new Float32Array(0);
  private featSpec = new Float32Array(0);
  private lsnr = new Float32Array(0);
  private m = new Float32Array(0);
  private coefs = new Float32Array(0);
  private views = new Map<number, RunViews>();
  private callStamp = 0;
  private closed = false;
  private readonly coefsPerStream: number;

  constructor(
    readonly params: DfnParams,
    private readonly graph: StatefulGraph,
    private session: SyncSession,
    private readonly opts: Dfn3RuntimeOptions = {},
  ) {
    this.shared = new DfnDspShared(params);
    this.perStream = graph.states.map((s) => s.shape.reduce((a, d) => a * (d === -1 ? 1 : d), 1));
    this.swapTmp = this.perStream.map((n) => new Float32Array(n));
    this.coefsPerStream = params.nbDf * params.dfOrder * 2;
    this.grow(Math.max(1, opts.initialCapacity ?? 8));
  }

  get latencyFrames(): number {
    return this.shared.latencyHops;
  }

  /** Streams currently open on this runtime. */
  get streamCount(): number {
    return this.slots.reduce((n, s) => n + (s ? 1 : 0), 0);
  }

  createStream(params: DenoiseParams): Dfn3Stream {
    if (this.closed) throw new Error('dfn3 runtime is closed');
    let slot = this.slots.indexOf(null);
    if (slot < 0) {
      slot = this.capacity;
      this.grow(this.capacity * 2);
    }
    const stream = new Dfn3Stream(this, slot, params);
    this.slots[slot] = stream;
    this.zeroState(slot);
    return stream;
  }

  processMany(streams: Denoiser[], inputs: Float32Array[], outputs: Float32Array[]): void {
    const b = streams.length;
    if (inputs.length !== b || outputs.length !== b) throw new RangeError('processMany: streams, inputs and outputs differ in length');
    if (b === 0) return;
    const stamp = ++this.callStamp;
    for (let i = 0; i < b; i++) {
      const s = streams[i];
      if (!(s instanceof Dfn3Stream) || s.runtime !== this || s.slot < 0) {
        throw new TypeError('processMany: every stream must be an open dfn3 stream of this runtime');
      }
      if (s.stamp === stamp) throw new TypeError('processMany: a stream appears twice');
      s.stamp = stamp;
      checkFrame(inputs[i]!);
    }
    // Move streams[i] into slot i (swaps only when membership or order changed).
    for (let i = 0; i < b; i++) {
      const s = streams[i] as Dfn3Stream;
      if (s.slot !== i) this.swapSlots(i, s.slot);
    }
    const p = this.parity[0]!;
    for (let i = 1; i < b; i++) if (this.parity[i] !== p) this.copyState(i, this.parity[i]!, p);
    for (let i = 0; i < b; i++) this.analyze(streams[i] as Dfn3Stream, inputs[i]!);
    this.run(0, b, p);
    for (let i = 0; i < b; i++) (streams[i] as Dfn3Stream).enhanceInto(outputs[i]!);
  }

  /** One stream alone: runs a batch of one at its own slot. */
  processOne(stream: Dfn3Stream, input: Float32Array, output: Float32Array): void {
    if (stream.slot < 0) throw new Error('dfn3 stream is closed');
    checkFrame(input);
    const slot = stream.slot;
    this.analyze(stream, input);
    this.run(slot, 1, this.parity[slot]!);
    stream.enhanceInto(output);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.slots) s?.detach();
    this.slots = [];
    this.views.clear();
    this.session.close();
  }

  /** Runs one hop of silence through a fresh slot: fails early when the graph and config.ini disagree. */
  selfCheck(): void {
    const s = this.createStream({ attenLimDb: null });
    try {
      s.process(new Float32Array(FRAME_SIZE));
    } finally {
      s.close();
    }
  }

  // --- stream support (package-private) ---

  /** Model outputs of the last hop of a slot (views; for tests and stats). */
  modelOutputs(slot: number): { lsnr: number; m: Float32Array; coefs: Float32Array } {
    const { nbErb } = this.params;
    return {
      lsnr: this.lsnr[slot]!,
      m: this.m.subarray(slot * nbErb, (slot + 1) * nbErb),
      coefs: this.coefs.subarray(slot * this.coefsPerStream, (slot + 1) * this.coefsPerStream),
    };
  }

  release(stream: Dfn3Stream): void {
    if (this.slots[stream.slot] === stream) this.slots[stream.slot] = null;
  }

  zeroState(slot: number): void {
    for (let k = 0; k < this.perStream.length; k++) {
      const n = this.perStream[k]!;
      this.arenas[0][k]!.fill(0, slot * n, (slot + 1) * n);
      this.arenas[1][k]!.fill(0, slot * n, (slot + 1) * n);
    }
  }

  enhance(stream: Dfn3Stream, dsp: DfnStreamDsp, output: Float32Array): void {
    const slot = stream.slot;
    const lsnr = this.lsnr[slot]!;
    if (lsnr - lsnr !== 0) {
      // The model produced NaN/Inf (should not happen with finite input): restart this stream clean.
      output.fill(0);
      dsp.reset();
      this.zeroState(slot);
      stream.recoveries++;
      return;
    }
    dsp.enhance(this.lsnr[slot]!, this.m, slot * this.params.nbErb, this.coefs, slot * this.coefsPerStream, output);
  }

  private analyze(stream: Dfn3Stream, input: Float32Array): void {
    const slot = stream.slot;
    stream.dsp.analyze(input, this.featErb, slot * this.params.nbErb, this.featSpec, slot * 2 * this.params.nbDf);
  }

  private run(start: number, count: number, parity: number): void {
    const views = this.viewsFor(start, count, parity);
    this.session.run(views.feeds, views.fetches);
    for (let i = start; i < start + count; i++) this.parity[i] = parity ^ 1;
  }

  private viewsFor(start: number, count: number, parity: number): RunViews {
    const key = ((start * (this.capacity + 1) + count) << 1) | parity;
    let v = this.views.get(key);
    if (v) return v;
    const { nbErb, nbDf } = this.params;
    const g = this.graph;
    const slice = (a: Float32Array, per: number) => a.subarray(start * per, (start + count) * per);
    const feeds: Feeds = {
      [g.inputs.featErb]: tensor(slice(this.featErb, nbErb), [count, 1, 1, nbErb]),
      [g.inputs.featSpec]: tensor(slice(this.featSpec, 2 * nbDf), [count, 2, 1, nbDf]),
    };
    const fetches: Fetches = {
      [g.outputs.lsnr]: tensor(slice(this.lsnr, 1), [count, 1, 1]),
      [g.outputs.m]: tensor(slice(this.m, nbErb), [count, 1, 1, nbErb]),
      [g.outputs.coefs]: tensor(slice(this.coefs, this.coefsPerStream), [count, 1, nbDf, this.coefsPerStream / nbDf]),
    };
    g.states.forEach((s, k) => {
      const dims = s.shape.map((d) => (d === -1 ? count : d));
      feeds[s.input] = tensor(slice(this.arenas[parity]![k]!, this.perStream[k]!), dims);
      fetches[s.output] = tensor(slice(this.arenas[parity ^ 1]![k]!, this.perStream[k]!), dims);
    });
    v = { feeds, fetches };
    this.views.set(key, v);
    return v;
  }

  private copyState(slot: number, from: number, to: number): void {
    for (let k = 0; k < this.perStream.length; k++) {
      const n = this.perStream[k]!;
      this.arenas[to][k]!.set(this.arenas[from][k]!.subarray(slot * n, (slot + 1) * n), slot * n);
    }
    this.parity[slot] = to;
  }

  private swapSlots(a: number, b: number): void {
    for (let k = 0; k < this.perStream.length; k++) {
      const n = this.perStream[k]!;
      const tmp = this.swapTmp[k]!;
      for (const arena of this.arenas) {
        const buf = arena[k]!;
        tmp.set(buf.subarray(a * n, (a + 1) * n));
        buf.copyWithin(a * n, b * n, (b + 1) * n);
        buf.set(tmp, b * n);
      }
    }
    const pa = this.parity[a]!;
    this.parity[a] = this.parity[b]!;
    this.parity[b] = pa;
    const sa = this.slots[a] ?? null;
    const sb = this.slots[b] ?? null;
    this.slots[a] = sb;
    this.slots[b] = sa;
    if (sb) sb.slot = a;
    if (sa) sa.slot = b;
    // Feature and model-output rows are not swapped: they only live within one hop.
  }

  private grow(capacity: number): void {
    const { nbErb, nbDf } = this.params;
    const old = this.capacity;
    const copy = (a: Float32Array, per: number) => {
      const n = new Float32Array(capacity * per);
      n.set(a.subarray(0, Math.min(a.length, capacity * per)));
      return n;
    };
    this.arenas = [
      this.arenas[0].length ? this.arenas[0].map((a, k) => copy(a, this.perStream[k]!)) : this.perStream.map((n) => new Float32Array(capacity * n)),
      this.arenas[1].length ? this.arenas[1].map((a, k) => copy(a, this.perStream[k]!)) : this.perStream.map((n) => new Float32Array(capacity * n)),
    ];
    const parity = new Uint8Array(capacity);
    parity.set(this.parity.subarray(0, old));
    this.parity = parity;
    this.featErb = copy(this.featErb, nbErb);
    this.featSpec = copy(this.featSpec, 2 * nbDf);
    this.lsnr = copy(this.lsnr, 1);
    this.m = copy(this.m, nbErb);
    this.coefs = copy(this.coefs, this.coefsPerStream);
    for (let i = old; i < capacity; i++) this.slots.push(null);
    this.capacity = capacity;
    this.views.clear();
  }

  get options(): Dfn3RuntimeOptions {
    return this.opts;
  }
}

function checkFrame(frame: Float32Array): void {
  if (frame.length !== FRAME_SIZE) throw new RangeError(`dfn3 expects frames of ${FRAME_SIZE} samples, got ${frame.length}`);
}

export { Dfn3Stream };
