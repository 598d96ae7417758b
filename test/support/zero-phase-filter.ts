// Zero-phase 2nd-order Butterworth filters for test signals: an RBJ-cookbook biquad
// (Q = 1/√2) run forward then backward, so the output has no delay to align.

export type FilterKind = 'lowpass' | 'highpass';

export function zeroPhaseButterworth(x: Float32Array, kind: FilterKind, cutoffHz: number, sampleRate = 48_000): Float32Array {
  const w0 = (2 * Math.PI * cutoffHz) / sampleRate;
  const alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w0);
  const a0 = 1 + alpha;
  const b0 = (kind === 'lowpass' ? (1 - cos) / 2 : (1 + cos) / 2) / a0;
  const b1 = (kind === 'lowpass' ? 1 - cos : -(1 + cos)) / a0;
  const b2 = b0;
  const a1 = (-2 * cos) / a0;
  const a2 = (1 - alpha) / a0;
  const pass = (input: Float32Array, reverse: boolean): Float32Array => {
    const out = new Float32Array(input.length);
    let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (let k = 0; k < input.length; k++) {
      const i = reverse ? input.length - 1 - k : k;
      const v = input[i]!;
      const y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1; x1 = v; y2 = y1; y1 = y;
      out[i] = y;
    }
    return out;
  };
  return pass(pass(x, false), true);
}
