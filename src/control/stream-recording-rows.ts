// The recording row of a live stream, on top of the recordings store
// (src/store/recordings.ts): created when the stream starts, finalized from the
// media plane's summary when it ends, then announced (recording_added) to the
// owner and friends so their lists update without a reload.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_RATE } from '../denoise/denoiser.js';
import type { SessionSummary } from '../media/media-plane.js';
import { repairWav } from '../media/wav-repair.js';
import type { Db } from '../store/db.js';
import { createRecording, deleteRecording, finalizeRecording, getRecording, toRecordingJson } from '../store/recordings.js';
import type { StreamNotifier, StreamRecordingRows, StreamLog } from './live-streams.js';

export function streamRecordingRows(
  db: Db,
  notifier: StreamNotifier,
  recordingsDir: string,
  log: StreamLog,
  nodeId: string | null = null,
): StreamRecordingRows {
  return {
    async create(r) {
      return createRecording(db, { ...r, sampleRate: SAMPLE_RATE, nodeId });
    },

    async finalize({ recordingId, ownerId, endedAt, summary }) {
      const row = await getRecording(db, recordingId);
      if (!row) return null;
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
 * file's header may lag behind its data, so it is repaired from the file length first.
 */
async function fromFile(file: string, log: StreamLog): Promise<{ durationMs: number; sizeBytes: number }> {
  try {
    await stat(file);
  } catch (err) {
    log.warn({ file, err }, 'recording file missing when finalizing its row');
    return { durationMs: 0, sizeBytes: 0 };
  }
  try {
    const r = repairWav(file, { fallbackSampleRate: SAMPLE_RATE });
    return { durationMs: r.durationMs, sizeBytes: r.sizeBytes };
  } catch (err) {
    log.error({ file, err }, 'recording file could not be repaired when finalizing its row');
    const { size } = await stat(file);
    return { durationMs: 0, sizeBytes: size };
  }
}
