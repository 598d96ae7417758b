// Denoises a whole recording with the same streaming engine the live path uses, hop by hop,
// and returns output aligned with the input: the engine's algorithmic delay is removed by
// feeding `latencyFrames` extra hops of silence and dropping as many from the start.
import { FRAME_SIZE, type DenoiseParams } from './denoiser.js';
import type { EngineRuntime } from './engine-runtime.js';

export interface DenoiseSignalOptions {
  params?: DenoiseParams;
  /** Called every `progressEvery` hops with the fraction done (0…1). */
  onProgress?: (fraction: number) => void;
  progressEvery?: number;
}

export function denoiseSignal(runtime: EngineRuntime, input: Float32Array, opts: DenoiseSignalOptions = {}): Float32Array {
  const stream = runtime.createStream(opts.params ?? { attenLimDb: null });
  try {
    const delay = stream.latencyFrames * FRAME_SIZE;
    const hops = Math.ceil((input.length + delay) / FRAME_SIZE);
    const padded = new Float32Array(hops * FRAME_SIZE);
    padded.set(input);
    const out = new Float32Array(input.length);
    const every = opts.progressEvery ?? 500;
    for (let t = 0; t < hops; t++) {
      const y = stream.process(padded.subarray(t * FRAME_SIZE, (t + 1) * FRAME_SIZE));
      // Output sample j of this hop is input sample t·FRAME_SIZE + j - delay.
      const start = t * FRAME_SIZE - delay;
      for (let j = 0; j < FRAME_SIZE; j++) {
        const k = start + j;
        if (k >= 0 && k < out.length) out[k] = y[j]!;
      }
      if (opts.onProgress && (t + 1) % every === 0) opts.onProgress((t + 1) / hops);
    }
    opts.onProgress?.(1);
    return out;
  } finally {
    stream.close();
  }
}
