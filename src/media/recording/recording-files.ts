// What a recording file is, by its name: `….opus` (Ogg Opus, issue 19, with a
// `….peaks` waveform side file) or `….wav` (16-bit PCM, every recording made
// before issue 19 and RECORD_FORMAT=wav). Recovery, finalizing and the HTTP
// layer ask here instead of assuming one format.
import { repairOggOpus } from './ogg-opus-repair.js';
import { peaksPathFor } from './ogg-opus-recorder.js';
import { repairWav } from './wav-repair.js';

export type RecordFormat = 'opus' | 'wav';

export function formatOfFile(name: string): RecordFormat | null {
  if (name.endsWith('.opus')) return 'opus';
  if (name.endsWith('.wav')) return 'wav';
  return null;
}

/** `x.opus` → `x.raw.opus`, `x.wav` → `x.raw.wav`: the un-denoised companion (RECORD_RAW). */
export function rawCompanionName(name: string): string {
  return name.replace(/\.(opus|wav)$/, '.raw.$1');
}

/** Files that belong to a recording besides its audio (deleted with it). */
export function sideFilesOf(name: string): string[] {
  return formatOfFile(name) === 'opus' ? [peaksPathFor(name)] : [];
}

export const CONTENT_TYPE: Record<RecordFormat, string> = {
  // RFC 7845 §9: audio/ogg for Ogg Opus.
  opus: 'audio/ogg',
  wav: 'audio/wav',
};

export interface RepairedRecording {
  sampleRate: number;
  durationMs: number;
  sizeBytes: number;
  changed: boolean;
}

/** Makes a recording left by a crash consistent and playable, whatever its format (see each repair). */
export function repairRecording(file: string, fallbackSampleRate: number): RepairedRecording {
  if (formatOfFile(file) === 'opus') {
    const r = repairOggOpus(file);
    return { sampleRate: r.sampleRate, durationMs: r.durationMs, sizeBytes: r.sizeBytes, changed: r.changed };
  }
  const r = repairWav(file, { fallbackSampleRate });
  return { sampleRate: r.sampleRate, durationMs: r.durationMs, sizeBytes: r.sizeBytes, changed: r.changed };
}
