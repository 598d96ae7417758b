// RNNoise (Valin 2018) from the plain Emscripten builds in @sapphi-red/web-noise-suppressor,
// instantiated directly: the package's JS is an AudioWorklet, but its .wasm files need only
// three small imports (below), so no Emscripten glue runs at all. Its rnnoise.wasm gives
// output identical, sample for sample, to @jitsi/rnnoise-wasm's rnnoise.wasm (the engine
// before this one: same RNNoise, same model, same one-frame lag). Its rnnoise_simd.wasm
// matches that to float rounding (~140 dB SNR) and costs ~25 % less per frame here
// (docs/decisions.md), which is what bounds concurrent streams per core; jitsi ships no SIMD
// build. @shiguredo/rnnoise-wasm refuses to start outside a browser.
// RNNoise works on 480-sample frames at 48 kHz and expects int16-scaled floats.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DenoiseEngineName } from '../config.js';
import { FRAME_SIZE, type DenoiseParams, type Denoiser } from './denoiser.js';
import type { EngineRuntime } from './engine-runtime.js';

/** Which of the package's two builds runs: 'simd' wherever the runtime validates WebAssembly SIMD. */
export type RnnoiseBuild = 'simd' | 'plain';

const WASM_FILES: Record<RnnoiseBuild, string> = {
  simd: '@sapphi-red/web-noise-suppressor/rnnoise_simd.wasm',
  plain: '@sapphi-red/web-noise-suppressor/rnnoise.wasm',
};

interface RnnoiseExports {
  memory: WebAssembly.Memory;
  __wasm_call_ctors(): void;
  emscripten_stack_init(): void;
  rnnoise_get_frame_size(): number;
  rnnoise_create(model: number): number;
  rnnoise_destroy(state: number): void;
  rnnoise_process_frame(state: number, out: number, input: number): number;
  malloc(size: number): number;
  free(ptr: number): void;
}

const INT16_SCALE = 32768;
const WASM_PAGE = 65_536;
/** Emscripten's own ceiling for a growable 32-bit heap. */
const MAX_HEAP = 2 ** 31;

/** One instance of the module: its exports and views of its memory, renewed whenever the memory grows. */
class RnnoiseInstance {
  readonly x: RnnoiseExports;
  heapF32!: Float32Array;
  private heapU8!: Uint8Array;

  constructor(module: WebAssembly.Module) {
    // The three imports the Emscripten build expects. memcpy must return dest: the C side uses
    // the result, and an undefined there made every frame ~10,000x slower in a trial run.
    const env = {
      emscripten_memcpy_big: (dest: number, src: number, n: number): number => {
        this.heapU8.copyWithin(dest, src, src + n);
        return dest;
      },
      emscripten_resize_heap: (requested: number): number => this.grow(requested >>> 0),
      __assert_fail: (cond: number, file: number, line: number, func: number): never => {
        throw new Error(`RNNoise WASM assertion failed: ${this.cString(cond)} at ${this.cString(file)}:${line} (${this.cString(func)})`);
      },
    };
    const instance = new WebAssembly.Instance(module, { env });
    this.x = instance.exports as unknown as RnnoiseExports;
    this.refreshViews();
    this.x.emscripten_stack_init();
    this.x.__wasm_call_ctors();
    const frameSize = this.x.rnnoise_get_frame_size();
    if (frameSize !== FRAME_SIZE) throw new Error(`RNNoise WASM works on ${frameSize}-sample frames, expected ${FRAME_SIZE}`);
  }

  /** Emscripten's contract: make the heap at least `requested` bytes; 1 on success, 0 on failure. */
  private grow(requested: number): number {
    const memory = this.x.memory;
    const old = memory.buffer.byteLength;
    if (requested > MAX_HEAP) return 0;
    // Headroom like Emscripten's glue (+20 %, at most +96 MiB), so streams created one after
    // another do not grow the heap (and replace its views) page by page.
    const wanted = Math.max(requested, Math.min(old + old / 5, old + 96 * 2 ** 20));
    for (const size of [wanted, requested]) {
      const target = Math.min(MAX_HEAP, Math.ceil(size / WASM_PAGE) * WASM_PAGE);
      try {
        memory.grow((target - old) / WASM_PAGE);
        this.refreshViews();
        return 1;
      } catch {
        // Past the module's maximum or out of address space: the exact request may still fit.
      }
    }
    return 0;
  }

  private refreshViews(): void {
    this.heapU8 = new Uint8Array(this.x.memory.buffer);
    this.heapF32 = new Float32Array(this.x.memory.buffer);
  }

  private cString(ptr: number): string {
    const end = this.heapU8.indexOf(0, ptr);
    return new TextDecoder().decode(this.heapU8.subarray(ptr, end < 0 ? ptr : end));
  }

  malloc(bytes: number): number {
    const ptr = this.x.malloc(bytes);
    if (ptr === 0) throw new Error(`RNNoise WASM heap exhausted (malloc ${bytes} bytes)`);
    return ptr;
  }

  createState(): number {
    const state = this.x.rnnoise_create(0);
    if (state === 0) throw new Error('RNNoise WASM heap exhausted (rnnoise_create)');
    return state;
  }
}

export class RnnoiseDenoiser implements Denoiser {
  readonly engine: DenoiseEngineName = 'rnnoise';
  /**
   * Measured on this build (cross-correlation of clean speech with the output of speech +
   * noise; test/unit/media-denoisers.test.ts pins it): the output lags the input by 480
   * samples, one frame (the overlap-add of its 20 ms windows). @jitsi/rnnoise-wasm's sync
   * build is a different RNNoise version and lags by two frames.
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
    private readonly mod: RnnoiseInstance,
    params: DenoiseParams,
  ) {
    this.state = mod.createState();
    try {
      this.buf = mod.malloc(FRAME_SIZE * 4);
    } catch (e) {
      mod.x.rnnoise_destroy(this.state);
      throw e;
    }
    this.setParams(params);
  }

  process(frame: Float32Array): Float32Array {
    if (this.state === 0) throw new Error('RNNoise denoiser is closed');
    const heap = this.mod.heapF32;
    const base = this.buf >> 2;
    for (let i = 0; i < FRAME_SIZE; i++) heap[base + i] = frame[i]! * INT16_SCALE;
    this.mod.x.rnnoise_process_frame(this.state, this.buf, this.buf);
    const h = this.mod.heapF32; // the heap view is replaced if the memory grew
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
    this.mod.x.rnnoise_destroy(this.state);
    this.state = 0;
    this.state = this.mod.createState();
    this.dryDelay.fill(0);
  }

  close(): void {
    if (this.state === 0) return;
    this.mod.x.rnnoise_destroy(this.state);
    this.mod.x.free(this.buf);
    this.state = 0;
  }
}

const compiled = new Map<RnnoiseBuild, WebAssembly.Module>();

/** The SIMD build where the runtime validates it (Node 20 does), the plain build otherwise. */
export function defaultRnnoiseBuild(): RnnoiseBuild {
  return WebAssembly.validate(wasmBytes('simd')) ? 'simd' : 'plain';
}

function wasmBytes(build: RnnoiseBuild): Uint8Array<ArrayBuffer> {
  return new Uint8Array(readFileSync(createRequire(import.meta.url).resolve(WASM_FILES[build])));
}

function compile(build: RnnoiseBuild): WebAssembly.Module {
  let module = compiled.get(build);
  if (!module) {
    module = new WebAssembly.Module(wasmBytes(build));
    compiled.set(build, module);
  }
  return module;
}

/** One WASM instance per runtime (per media worker); its streams share that instance's heap. */
export async function loadRnnoiseRuntime(build: RnnoiseBuild = defaultRnnoiseBuild()): Promise<EngineRuntime & { build: RnnoiseBuild }> {
  const mod = new RnnoiseInstance(compile(build));
  return {
    engine: 'rnnoise',
    build,
    createStream: (params) => new RnnoiseDenoiser(mod, params),
    close: async () => {},
  };
}
