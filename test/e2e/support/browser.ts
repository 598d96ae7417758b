// Headless Chromium for e2e tests, with the flags this machine needs
// and an optional fake microphone that plays a WAV file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { PROJECT_ROOT } from '../../../src/config.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchOptions {
  /** WAV file the fake microphone plays (loops; append `%noloop` to play once). Enables the fake media flags. */
  fakeMicWav?: string;
  /** Grants getUserMedia without a prompt even without a WAV (Chromium's synthetic beep). */
  fakeMedia?: boolean;
  extraArgs?: string[];
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} not found: run sudo apt-get install chromium`);
  const args = [...CHROMIUM_ARGS];
  if (opts.fakeMicWav || opts.fakeMedia) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream');
  if (opts.fakeMicWav) {
    const file = opts.fakeMicWav.replace(/%noloop$/, '');
    if (!existsSync(file)) throw new Error(`fake microphone WAV not found: ${file}`);
    args.push(`--use-file-for-fake-audio-capture=${opts.fakeMicWav}`);
  }
  args.push(...(opts.extraArgs ?? []));
  return chromium.launch({ executablePath: CHROMIUM_PATH, args });
}

/** A file from the shared test audio (HUSHCAST_SHARED_DIR, default ../shared); fails with a clear message when absent. */
export function sharedAudio(name: 'clean_freesound_33711.wav' | 'noise_freesound_573577.wav' | 'noisy_snr0.wav' | string): string {
  const dir = process.env.HUSHCAST_SHARED_DIR || path.resolve(PROJECT_ROOT, '..', 'shared');
  const file = path.join(dir, 'audio', name);
  if (!existsSync(file)) throw new Error(`test audio ${file} missing: set HUSHCAST_SHARED_DIR to the shared folder (test/run.sh does)`);
  return file;
}
