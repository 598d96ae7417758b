// One dfn3 stream (a Denoiser): its host DSP state lives here, its model state in a slot of
// the runtime's batch arenas, so the runtime can run many streams in one inference call.
import type { DenoiseEngineName } from '../../config.js';
import type { DenoiseParams, Denoiser } from '../denoiser.js';
import { FRAME_SIZE } from '../denoiser.js';
import { type DfnDspShared, DfnStreamDsp } from './stream-dsp.js';

type DspOptions = NonNullable<ConstructorParameters<typeof DfnStreamDsp>[1]>;

/** What a stream needs from the runtime that owns its model slot (implemented by Dfn3Runtime). */
export interface Dfn3StreamHost {
  readonly latencyFrames: number;
  readonly shared: DfnDspShared;
  readonly options: { thresholds?: DspOptions['thresholds']; postFilterBeta?: DspOptions['postFilterBeta'] };
  processOne(stream: Dfn3Stream, input: Float32Array, output: Float32Array): void;
  zeroState(slot: number): void;
  release(stream: Dfn3Stream): void;
  modelOutputs(slot: number): { lsnr: number; m: Float32Array; coefs: Float32Array };
  enhance(stream: Dfn3Stream, dsp: DfnStreamDsp, output: Float32Array): void;
}

/** One stream's denoiser: host DSP state here, model state in its runtime slot. */
export class Dfn3Stream implements Denoiser {
  readonly engine: DenoiseEngineName = 'dfn3';
  readonly latencyFrames: number;
  readonly dsp: DfnStreamDsp;
  /** Slot in the runtime's arenas; -1 once closed. */
  slot: number;
  /** Last processMany call that included this stream (duplicate detection). */
  stamp = 0;
  /** Times the model state was reset after a non-finite model output. */
  recoveries = 0;
  private readonly out = new Float32Array(FRAME_SIZE);

  constructor(
    readonly runtime: Dfn3StreamHost,
    slot: number,
    params: DenoiseParams,
  ) {
    this.slot = slot;
    this.latencyFrames = runtime.latencyFrames;
    const o = runtime.options;
    this.dsp = new DfnStreamDsp(runtime.shared, { thresholds: o.thresholds, postFilterBeta: o.postFilterBeta, attenLimDb: params.attenLimDb });
  }

  process(frame: Float32Array): Float32Array {
    this.runtime.processOne(this, frame, this.out);
    return this.out;
  }

  /** Takes effect on the next hop. */
  setParams(params: DenoiseParams): void {
    this.dsp.setAttenLimDb(params.attenLimDb);
  }

  reset(): void {
    if (this.slot < 0) return;
    this.dsp.reset();
    this.runtime.zeroState(this.slot);
  }

  close(): void {
    if (this.slot < 0) return;
    this.runtime.release(this);
    this.slot = -1;
  }

  /** The model outputs of this stream's last hop (lsnr, ERB gains, DF coefficients). */
  lastModelOutputs(): { lsnr: number; m: Float32Array; coefs: Float32Array } {
    if (this.slot < 0) throw new Error('dfn3 stream is closed');
    return this.runtime.modelOutputs(this.slot);
  }

  /** @internal after the runtime ran this stream's hop. */
  enhanceInto(output: Float32Array): void {
    this.runtime.enhance(this, this.dsp, output);
  }

  /** @internal the runtime closed under this stream. */
  detach(): void {
    this.slot = -1;
  }
}
