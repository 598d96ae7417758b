import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { denoiseSignal } from '../../src/denoise/denoise-signal.js';
import type { EngineRuntime } from '../../src/denoise/engine-runtime.js';
import { loadDfn3Runtime } from '../../src/denoise/dfn/runtime.js';
import { loadRnnoiseRuntime } from '../../src/denoise/rnnoise.js';
import { dfnModelDir, loadSharedAudio, mixAtSnr, sharedDir, siSdr } from '../support/dfn-audio.js';
import { Dnsmos } from '../support/dnsmos.js';

const SNRS = [0, 5, 10] as const;
let dfn3: EngineRuntime;
let rnnoise: EngineRuntime;
let dnsmos: Dnsmos;
const mixes = new Map<number, { noisy: Float32Array; clean: Float32Array }>();

before(async () => {
  const clean = await loadSharedAudio('clean_freesound_33711.wav');
  const noise = await loadSharedAudio('noise_freesound_573577.wav');
  for (const snr of SNRS) mixes.set(snr, mixAtSnr(clean, noise, snr));
  dfn3 = await loadDfn3Runtime(dfnModelDir());
  rnnoise = await loadRnnoiseRuntime();
  dnsmos = await Dnsmos.load(path.join(sharedDir(), 'models', 'dnsmos'));
});
after(async () => {
  await dfn3?.close();
  await rnnoise?.close();
  await dnsmos?.close();
});

test('dfn3 improves SI-SDR by at least 8 dB on speech mixed with noise at 0 dB SNR', () => {
  const { noisy, clean } = mixes.get(0)!;
  const before = siSdr(noisy, clean);
  const after = siSdr(denoiseSignal(dfn3, noisy), clean);
  assert.ok(after - before >= 8, `SI-SDR ${before.toFixed(2)} → ${after.toFixed(2)} dB`);
});

for (const snr of SNRS) {
  test(`dfn3 beats rnnoise on DNSMOS OVRL at ${snr} dB SNR`, async () => {
    const { noisy } = mixes.get(snr)!;
    const d = await dnsmos.score48k(denoiseSignal(dfn3, noisy));
    const r = await dnsmos.score48k(denoiseSignal(rnnoise, noisy));
    assert.ok(d.ovrl > r.ovrl, `OVRL dfn3 ${d.ovrl.toFixed(3)} vs rnnoise ${r.ovrl.toFixed(3)}`);
  });
}
