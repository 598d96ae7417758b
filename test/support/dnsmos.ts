// DNSMOS P.835 (Reddy et al., ICASSP 2022): SIG, BAK and OVRL predicted by Microsoft's
// sig_bak_ovr.onnx, framed as the DNS Challenge's dnsmos_local.py does: 16 kHz audio, looped
// to at least 9.01 s, windows of 9.01 s every 1 s, each raw score mapped through the published
// (non-personalized) polynomial fit, then averaged over windows.
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

const FS = 16_000;
const INPUT_LENGTH = 9.01;
const WINDOW = Math.floor(INPUT_LENGTH * FS); // 144160 samples: the model's fixed input

/** Polynomial fits of dnsmos_local.py (highest power first). */
const FIT = {
  sig: [-0.08397278, 1.22083953, 0.0052439],
  bak: [-0.13166888, 1.60915514, -0.39604546],
  ovrl: [-0.06766283, 1.11546468, 0.04602535],
};

function polyval(c: number[], x: number): number {
  return c.reduce((acc, k) => acc * x + k, 0);
}

export interface DnsmosScore {
  sig: number;
  bak: number;
  ovrl: number;
}

/** 48 kHz → 16 kHz: Hann-windowed sinc low-pass (cut-off 7.2 kHz, 193 taps), keep every third sample. */
export function decimate48kTo16k(x: Float32Array): Float32Array {
  const taps = 193;
  const half = (taps - 1) / 2;
  const fc = 7_200 / 48_000;
  const h = new Float64Array(taps);
  let sum = 0;
  for (let i = 0; i < taps; i++) {
    const n = i - half;
    const sinc = n === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * n) / (Math.PI * n);
    h[i] = sinc * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1)));
    sum += h[i]!;
  }
  for (let i = 0; i < taps; i++) h[i]! /= sum;
  const out = new Float32Array(Math.floor(x.length / 3));
  for (let o = 0; o < out.length; o++) {
    const c = o * 3;
    let acc = 0;
    for (let i = 0; i < taps; i++) {
      const j = c + i - half;
      if (j >= 0 && j < x.length) acc += h[i]! * x[j]!;
    }
    out[o] = acc;
  }
  return out;
}

export class Dnsmos {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(modelDir: string): Promise<Dnsmos> {
    const file = path.join(modelDir, 'sig_bak_ovr.onnx');
    if (!existsSync(file)) throw new Error(`DNSMOS model not found at ${file}: set HUSHCAST_SHARED_DIR to the shared/ directory (npm test does)`);
    return new Dnsmos(await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
  }

  /** Scores 48 kHz mono audio. */
  async score48k(audio48k: Float32Array): Promise<DnsmosScore> {
    let audio = decimate48kTo16k(audio48k);
    while (audio.length < WINDOW) {
      const twice = new Float32Array(audio.length * 2);
      twice.set(audio);
      twice.set(audio, audio.length);
      audio = twice;
    }
    const hops = Math.floor(Math.floor(audio.length / FS) - INPUT_LENGTH) + 1;
    const acc = { sig: 0, bak: 0, ovrl: 0 };
    let n = 0;
    for (let i = 0; i < hops; i++) {
      const seg = audio.slice(i * FS, i * FS + WINDOW);
      if (seg.length < WINDOW) continue;
      const out = await this.session.run({ input_1: new ort.Tensor('float32', seg, [1, WINDOW]) });
      const [sig, bak, ovrl] = Array.from(out[this.session.outputNames[0]!]!.data as Float32Array);
      acc.sig += polyval(FIT.sig, sig!);
      acc.bak += polyval(FIT.bak, bak!);
      acc.ovrl += polyval(FIT.ovrl, ovrl!);
      n++;
    }
    return { sig: acc.sig / n, bak: acc.bak / n, ovrl: acc.ovrl / n };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
