// npm run bench:quality — denoising quality of none / rnnoise / dfn3 on mixtures made here from
// the shared clean speech and noise clips at 0, 5 and 10 dB SNR: SI-SDR (and its improvement
// over the noisy input) against the clean clip, DNSMOS P.835 SIG/BAK/OVRL. Output is aligned
// with the input (each engine's delay removed). Writes bench/results/quality.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, loadConfig } from '../src/config.js';
import { denoiseSignal } from '../src/denoise/denoise-signal.js';
import type { EngineRuntime } from '../src/denoise/engine-runtime.js';
import { loadDfn3Runtime } from '../src/denoise/dfn/runtime.js';
import { createNoneRuntime } from '../src/denoise/none.js';
import { loadRnnoiseRuntime } from '../src/denoise/rnnoise.js';
import { loadSharedAudio, mixAtSnr, sharedDir, siSdr } from '../test/support/dfn-audio.js';
import { Dnsmos } from '../test/support/dnsmos.js';

const SNRS = [0, 5, 10];
const HOP = 480;

/**
 * Whole hops by which the output is late (+) or early (-) against the clean speech, i.e. by
 * how much the engine's declared latencyFrames is off: the shift in [-3, 3] hops maximizing SI-SDR.
 */
function misalignmentHops(out: Float32Array, clean: Float32Array): number {
  let best = 0;
  let bestSdr = -Infinity;
  for (let k = -3; k <= 3; k++) {
    const d = k * HOP;
    const sdr = d >= 0 ? siSdr(out.subarray(d), clean.subarray(0, clean.length - d)) : siSdr(out.subarray(0, out.length + d), clean.subarray(-d));
    if (sdr > bestSdr) {
      bestSdr = sdr;
      best = k;
    }
  }
  return best;
}
const r2 = (x: number) => Number(x.toFixed(2));
const r3 = (x: number) => Number(x.toFixed(3));

async function main(): Promise<void> {
  const clean = await loadSharedAudio('clean_freesound_33711.wav');
  const noise = await loadSharedAudio('noise_freesound_573577.wav');
  const dnsmos = await Dnsmos.load(path.join(sharedDir(), 'models', 'dnsmos'));
  const engines: [string, EngineRuntime][] = [
    ['none', createNoneRuntime()],
    ['rnnoise', await loadRnnoiseRuntime()],
    ['dfn3', await loadDfn3Runtime(loadConfig().dfnModelDir)],
  ];
  const results: Record<string, Record<string, object>> = {};
  for (const snr of SNRS) {
    const mix = mixAtSnr(clean, noise, snr);
    const base = siSdr(mix.noisy, mix.clean);
    const row: Record<string, object> = {};
    for (const [name, rt] of engines) {
      const out = denoiseSignal(rt, mix.noisy);
      const sdr = siSdr(out, mix.clean);
      const mos = await dnsmos.score48k(out);
      const late = misalignmentHops(out, mix.clean);
      row[name] = { si_sdr: r2(sdr), si_sdr_improvement: r2(sdr - base), sig: r3(mos.sig), bak: r3(mos.bak), ovrl: r3(mos.ovrl), misaligned_hops: late };
      if (late !== 0) console.log(`   ${name}: output is ${late} hop(s) off after removing its declared latency; SI-SDR is not meaningful`);
      console.log(`${String(snr).padStart(2)} dB ${name.padEnd(8)} SI-SDR ${sdr.toFixed(2)} dB (${(sdr - base >= 0 ? '+' : '') + (sdr - base).toFixed(2)})  DNSMOS SIG ${mos.sig.toFixed(2)} BAK ${mos.bak.toFixed(2)} OVRL ${mos.ovrl.toFixed(2)}`);
    }
    results[`${snr}dB`] = row;
  }
  for (const [, rt] of engines) await rt.close();
  await dnsmos.close();
  const dir = path.join(PROJECT_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'quality.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${path.join(dir, 'quality.json')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
