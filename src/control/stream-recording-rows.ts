// The recording row of a live stream, on top of the recordings store
// (src/store/recordings.ts): created when the stream starts, finalized from the
// media plane's summary when it ends, then announced (recording_added) to the
// owner and friends so their lists update without a reload. A stream that
// brought less than MIN_RECORDING_MS of received audio (started and stopped at
// once, or never sent media) leaves nothing: its files and row are removed and
// nobody is told, so empty streams cannot fill friends' lists.
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_RATE } from '../denoise/denoiser.js';
import type { Config } from '../config.js';
import type { SessionSummary } from '../media/media-plane.js';
import { repairRecording, sideFilesOf } from '../media/recording/recording-files.js';
import type { Db } from '../store/db.js';
import { createRecording, deleteRecording, finalizeRecording, getRecording, toRecordingJson } from '../store/recordings.js';
import type { StreamNotifier, StreamRecordingRows, StreamLog } from './live-streams.js';

export function streamRecordingRows(
  db: Db,
  notifier: StreamNotifier,
  config: Pick<Config, 'recordingsDir' | 'minRecordingMs'>,
  log: StreamLog,
  nodeId: string | null = null,
): StreamRecordingRows {
  const { recordingsDir } = config;
  return {
    async create(r) {
      return createRecording(db, { ...r, sampleRate: SAMPLE_RATE, nodeId });
    },

    async finalize({ recordingId, ownerId, endedAt, summary }) {
      const row = await getRecording(db, recordingId);
      if (!row) return null;
      // receivedAudioMs is null only when the worker crashed: then the file decides, as before.
      const received = summary?.receivedAudioMs ?? null;
      if (received !== null && (received === 0 || received < config.minRecordingMs)) {
        // Files first, then the row: a file that cannot be removed keeps its row for start-up recovery.
        const names = [row.file_name, row.raw_file_name].flatMap((name) => (name ? [name, ...sideFilesOf(name)] : []));
        await Promise.all(names.map((name) => removeFile(path.join(recordingsDir, path.basename(name)))));
        await deleteRecording(db, recordingId);
        log.info({ recordingId, receivedAudioMs: received, minRecordingMs: config.minRecordingMs }, 'recording too short to keep: removed');
        return null;
      }
      const end = summary?.recording ? fromSummary(summary) : await fromFile(path.join(recordingsDir, row.file_name), log);
      if (end.sizeBytes === 0) {
        // The recording never started (unwritable folder): no file, so no entry that could not be played.
        await deleteRecording(db, recordingId);
        return null;
      }
      if (summary && summary.engine !== row.denoise_engine) {
        await db.updateTable('stream_recordings').set({ denoise_engine: summary.engine }).where('id', '=', recordingId).execute();
      }
      await finalizeRecording(db, recordingId, { endedAt, ...end, status: 'complete' });
      const done = await getRecording(db, recordingId);
      if (!done) return null;
      const recording = toRecordingJson(done);
      await notifier.toUserAndFriends(ownerId, { type: 'recording_added', recording: { ...recording } });
      return { ...recording };
    },

    async discard(recordingId) {
      await deleteRecording(db, recordingId);
    },
  };
}

function fromSummary(summary: SessionSummary): { durationMs: number; sizeBytes: number } {
  return { durationMs: summary.recording!.durationMs, sizeBytes: summary.recording!.sizeBytes };
}

/**
 * The media plane could not report (its worker crashed or failed while stopping): the
 * file's header may lag behind its data (WAV) or lack its last page's end-of-stream (Opus),
 * so it is repaired first.
 */
async function fromFile(file: string, log: StreamLog): Promise<{ durationMs: number; sizeBytes: number }> {
  try {
    await stat(file);
  } catch (err) {
    log.warn({ file, err }, 'recording file missing when finalizing its row');
    return { durationMs: 0, sizeBytes: 0 };
  }
  try {
    const r = repairRecording(file, SAMPLE_RATE);
    return { durationMs: r.durationMs, sizeBytes: r.sizeBytes };
  } catch (err) {
    log.error({ file, err }, 'recording file could not be repaired when finalizing its row');
    const { size } = await stat(file);
    return { durationMs: 0, sizeBytes: size };
  }
}

/** Removes a recording file; one that does not exist (or whose folder never could) is already gone. */
async function removeFile(file: string): Promise<void> {
  try {
    await rm(file, { force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
  }
}
