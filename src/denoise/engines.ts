// Loads the denoise engine a worker runs, with the fallback rule:
// a missing or broken DeepFilterNet3 model never stops the
// server; it runs RNNoise and says why.
import type { Config, DenoiseEngineName } from '../config.js';
import type { EngineRuntime } from './engine-runtime.js';
import { loadDfn3Runtime } from './dfn/runtime.js';
import { createNoneRuntime } from './none.js';
import { loadRnnoiseRuntime } from './rnnoise.js';

export type { EngineRuntime } from './engine-runtime.js';

export interface EngineLog {
  warn(obj: object, msg: string): void;
}

export const DFN3_UNAVAILABLE = 'DeepFilterNet3 engine not available';

/** Loads the requested engine; for 'dfn3' with a missing/corrupt model it warns and falls back to rnnoise. */
export async function loadEngineRuntime(
  engine: DenoiseEngineName,
  config: Config,
  log: EngineLog,
): Promise<{ runtime: EngineRuntime; fallbackReason: string | null }> {
  switch (engine) {
    case 'none':
      return { runtime: createNoneRuntime(), fallbackReason: null };
    case 'rnnoise':
      return { runtime: await loadRnnoiseRuntime(), fallbackReason: null };
    case 'dfn3': {
      let reason: string;
      try {
        return { runtime: await loadDfn3Runtime(config.dfnModelDir), fallbackReason: null };
      } catch (e) {
        reason = `${DFN3_UNAVAILABLE}: ${(e as Error).message}`;
      }
      log.warn({ engine, modelDir: config.dfnModelDir, reason }, 'DeepFilterNet3 unavailable; falling back to rnnoise');
      return { runtime: await loadRnnoiseRuntime(), fallbackReason: reason };
    }
  }
}

