// What a loaded denoise engine offers the media worker (the per-worker batching contract is described in docs/decisions.md, "Media plane in worker threads").
import type { DenoiseEngineName } from '../config.js';
import type { DenoiseParams, Denoiser } from './denoiser.js';

export interface EngineRuntime {
  readonly engine: DenoiseEngineName;
  /** A per-stream denoiser; process() works alone (batch of one). */
  createStream(params: DenoiseParams): Denoiser;
  /**
   * Optional: denoise one frame of each of many streams of this runtime in ONE call (amortizes
   * inference overhead). outputs[i] receives the result for streams[i]. Same results as
   * calling process() on each.
   */
  processMany?(streams: Denoiser[], inputs: Float32Array[], outputs: Float32Array[]): void;
  close(): Promise<void>;
}
