// A synchronous onnxruntime-node session. Denoiser.process() is synchronous (one 10 ms hop on the
// media worker's clock), but the public InferenceSession.run() defers to setImmediate and returns a
// promise; the package's native binding underneath runs synchronously, so we use it directly.
// Outputs are written into caller-owned tensors (pre-allocated fetches): nothing is allocated
// for them per hop.
import { Tensor } from 'onnxruntime-node';
// The binding is the package's own internal entry point (no "exports" map restricts it).
import { binding, initOrt } from 'onnxruntime-node/dist/binding.js';

export type Feeds = Record<string, Tensor>;
export type Fetches = Record<string, Tensor>;

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  readonly inputMetadata: { name: string }[];
  readonly outputMetadata: { name: string }[];
  run(feeds: Feeds, fetches: Record<string, Tensor | null>, options: object): Record<string, Tensor>;
  dispose(): void;
}

export class SyncSession {
  private native: NativeSession | null;
  readonly inputNames: string[];
  readonly outputNames: string[];

  constructor(model: Uint8Array) {
    initOrt();
    const s = new binding.InferenceSession() as unknown as NativeSession;
    // One thread per session: a worker owns one core and batches its streams instead.
    s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    this.native = s;
    this.inputNames = s.inputMetadata.map((m) => m.name);
    this.outputNames = s.outputMetadata.map((m) => m.name);
  }

  /** Runs the model; results land in the tensors of `fetches`. */
  run(feeds: Feeds, fetches: Fetches): void {
    if (!this.native) throw new Error('onnxruntime session is closed');
    this.native.run(feeds, fetches, {});
  }

  /** Runs the model and returns freshly allocated outputs (offline use). */
  runAlloc(feeds: Feeds, outputs: string[]): Record<string, Tensor> {
    if (!this.native) throw new Error('onnxruntime session is closed');
    return this.native.run(feeds, Object.fromEntries(outputs.map((o) => [o, null])), {});
  }

  close(): void {
    this.native?.dispose();
    this.native = null;
  }
}

export function tensor(data: Float32Array, dims: number[]): Tensor {
  return new Tensor('float32', data, dims);
}
