// npm run denoise -- IN.wav OUT.wav [--engine dfn3|rnnoise|none] [--atten-lim DB]
// Offline denoising with the same streaming engines the live path runs, hop by hop.
// Any WAV in (rate, channels) → 48 kHz mono 16-bit WAV out, aligned with the input.
import { parseArgs } from 'node:util';
import { type DenoiseEngineName, loadConfig } from '../config.js';
import { readWavTo48kMono, writeWav48kMono } from './audio-file.js';
import { denoiseSignal } from './denoise-signal.js';
import { SAMPLE_RATE } from './denoiser.js';
import { loadEngineRuntime } from './engines.js';

const USAGE = 'usage: npm run denoise -- IN.wav OUT.wav [--engine dfn3|rnnoise|none] [--atten-lim DB]';
const ENGINES: DenoiseEngineName[] = ['dfn3', 'rnnoise', 'none'];
/** Files longer than this show progress on stderr. */
const PROGRESS_AFTER_S = 20;

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { engine: { type: 'string', default: 'dfn3' }, 'atten-lim': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 2) throw new UsageError('expected an input and an output file');
  const [input, output] = positionals as [string, string];
  const engine = values.engine as DenoiseEngineName;
  if (!ENGINES.includes(engine)) throw new UsageError(`unknown engine "${values.engine}"`);
  let attenLimDb: number | null = null;
  if (values['atten-lim'] !== undefined) {
    attenLimDb = Number(values['atten-lim']);
    if (!Number.isFinite(attenLimDb) || attenLimDb < 0) throw new UsageError(`--atten-lim must be a number of dB ≥ 0, got "${values['atten-lim']}"`);
  }

  const audio = await readWavTo48kMono(input);
  const config = loadConfig();
  const { runtime, fallbackReason } = await loadEngineRuntime(engine, config, {
    warn: (_obj, msg) => console.error(`warning: ${msg}`),
  });
  if (fallbackReason) console.error(`warning: ${fallbackReason}`);
  const seconds = audio.samples.length / SAMPLE_RATE;
  console.error(
    `${input}: ${audio.sampleRate} Hz, ${audio.channels} ch, ${seconds.toFixed(1)} s → engine ${runtime.engine}` +
      (attenLimDb === null ? '' : `, attenuation limit ${attenLimDb} dB`),
  );
  const started = performance.now();
  let lastPct = -1;
  const out = denoiseSignal(runtime, audio.samples, {
    params: { attenLimDb },
    progressEvery: 100,
    onProgress:
      seconds > PROGRESS_AFTER_S
        ? (f) => {
            const pct = Math.floor(f * 20) * 5;
            if (pct !== lastPct) {
              lastPct = pct;
              process.stderr.write(`\r${pct}%`);
              if (f === 1) process.stderr.write('\n');
            }
          }
        : undefined,
  });
  const elapsed = (performance.now() - started) / 1000;
  await runtime.close();
  await writeWav48kMono(output, out);
  console.error(`wrote ${output} (48 kHz mono) in ${elapsed.toFixed(1)} s, real-time factor ${(elapsed / seconds).toFixed(3)}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(`error: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
