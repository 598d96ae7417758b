// RNNoise (Valin 2018) from @jitsi/rnnoise-wasm: its Emscripten factory runs in
// Node (worker threads included) when handed the .wasm bytes, no other shim;
// @shiguredo/rnnoise-wasm refuses to start outside a browser (and measured
// ~1 ms per frame with a shim). The package's "sync" build, which embeds the
// binary, measured ~480 µs per frame here against ~230 µs for rnnoise.wasm.
// RNNoise works on 480-sample frames at 48 kHz and expects int16-scaled floats.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import createRNNWasmModule from '@jitsi/rnnoise-wasm/dist/rnnoise.js';
import type { DenoiseEngineName } from '../config.js';
import { FRAME_SIZE, type DenoiseParams, type Denoiser } from './denoiser.js';
import type { EngineRuntime } from './engine-runtime.js';

interface RnnoiseModule {
  ready: Promise<unknown>;
  HEAPF32: Float32Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(state: number): void;
  _rnnoise_process_frame(state: number, out: number, input: number): number;
}

const INT16_SCALE = 32768;

export class RnnoiseDenoiser implements Denoiser {
  readonly engine: DenoiseEngineName = 'rnnoise';
  /**
   * Measured on this build (cross-correlation of clean speech with the output of speech +
   * noise; test/unit/media-denoisers.test.ts pins it): the output lags the input by 480
   * samples, one frame (the overlap-add of its 20 ms windows). The package's sync build is
   * a different RNNoise version and lags by two frames.
   */
  readonly latencyFrames = 1;
  private state: number;
  private readonly buf: number;
  private readonly out = new Float32Array(FRAME_SIZE);
  /** Linear gain floor from attenLimDb: output = max(denoised, floor·input) in the mix below. */
  private mixDry = 0;
  /** The input of the last latencyFrames frames, to mix in aligned with the denoised output. */
  private readonly dryDelay = new Float32Array(FRAME_SIZE * this.latencyFrames);

  constructor(
    private readonly mod: RnnoiseModule,
    params: DenoiseParams,
  ) {
    this.state = mod._rnnoise_create(0);
    this.buf = mod._malloc(FRAME_SIZE * 4);
    this.setParams(params);
  }

  process(frame: Float32Array): Float32Array {
    if (this.state === 0) throw new Error('RNNoise denoiser is closed');
    const heap = this.mod.HEAPF32;
    const base = this.buf >> 2;
    for (let i = 0; i < FRAME_SIZE; i++) heap[base + i] = frame[i]! * INT16_SCALE;
    this.mod._rnnoise_process_frame(this.state, this.buf, this.buf);
    const h = this.mod.HEAPF32; // the heap view may have been replaced by memory growth
    const out = this.out;
    const dry = this.mixDry;
    const d = this.dryDelay;
    if (dry === 0) {
      for (let i = 0; i < FRAME_SIZE; i++) out[i] = h[base + i]! / INT16_SCALE;
    } else {
      // Limited attenuation: add back a share of the input, delayed like RNNoise's output.
      for (let i = 0; i < FRAME_SIZE; i++) out[i] = (1 - dry) * (h[base + i]! / INT16_SCALE) + dry * d[i]!;
    }
    d.copyWithin(0, FRAME_SIZE);
    d.set(frame, d.length - FRAME_SIZE);
    return out;
  }

  setParams(params: DenoiseParams): void {
    // attenLimDb caps how far noise may be pushed down: keep 10^(-L/20) of the input.
    // null = unlimited (no input kept); 0 = no attenuation at all (input passes).
    const lim = params.attenLimDb;
    this.mixDry = lim === null ? 0 : lim <= 0 ? 1 : Math.pow(10, -lim / 20);
  }

  reset(): void {
    if (this.state === 0) return;
    this.mod._rnnoise_destroy(this.state);
    this.state = this.mod._rnnoise_create(0);
    this.dryDelay.fill(0);
  }

  close(): void {
    if (this.state === 0) return;
    this.mod._rnnoise_destroy(this.state);
    this.mod._free(this.buf);
    this.state = 0;
  }
}

export async function loadRnnoiseRuntime(): Promise<EngineRuntime> {
  const require = createRequire(import.meta.url);
  const wasmBinary = readFileSync(require.resolve('@jitsi/rnnoise-wasm/dist/rnnoise.wasm'));
  const mod = (await createRNNWasmModule({ wasmBinary })) as RnnoiseModule;
  return {
    engine: 'rnnoise',
    createStream: (params) => new RnnoiseDenoiser(mod, params),
    close: async () => {},
  };
}
