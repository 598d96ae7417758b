// The Denoiser contract every engine implements (ARCHITECTURE.md, "Denoising").
// One instance per stream; it keeps that stream's state between hops.
import type { DenoiseEngineName } from '../config.js';

/** 10 ms at 48 kHz: the hop every engine consumes and produces. */
export const FRAME_SIZE = 480;
export const SAMPLE_RATE = 48_000;

export interface DenoiseParams {
  /** Maximum attenuation in dB; null = unlimited (full strength). 0 would mean "off". */
  attenLimDb: number | null;
}

export interface Denoiser {
  readonly engine: DenoiseEngineName;
  /** Output lags input by this many 480-sample frames (algorithmic delay). */
  readonly latencyFrames: number;
  /**
   * Processes one 480-sample frame of 48 kHz mono float audio in [-1, 1].
   * The returned array may be a buffer the engine reuses: copy it before the next call.
   */
  process(frame: Float32Array): Float32Array;
  /** Live strength change; engines without the notion ignore it. */
  setParams(params: DenoiseParams): void;
  /** Forget all state (as if freshly created). */
  reset(): void;
  /** Frees native/WASM resources; safe to call twice. */
  close(): void;
}
