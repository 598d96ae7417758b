// Pass-through engine: for A/B listening and for tests that compare what
// listeners hear with what the broadcaster sent.
import type { DenoiseEngineName } from '../config.js';
import { FRAME_SIZE, type DenoiseParams, type Denoiser } from './denoiser.js';
import type { EngineRuntime } from './engine-runtime.js';

export class NoneDenoiser implements Denoiser {
  readonly engine: DenoiseEngineName = 'none';
  readonly latencyFrames = 0;
  private readonly out = new Float32Array(FRAME_SIZE);

  process(frame: Float32Array): Float32Array {
    // A copy, not the input itself: callers may reuse their input buffer while holding the output.
    this.out.set(frame);
    return this.out;
  }

  setParams(_params: DenoiseParams): void {}
  reset(): void {}
  close(): void {}
}

export function createNoneRuntime(): EngineRuntime {
  return {
    engine: 'none',
    createStream: () => new NoneDenoiser(),
    close: async () => {},
  };
}
