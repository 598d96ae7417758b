// Start-up crash recovery (issue 4): a process that died mid-stream (SIGKILL,
// power loss, OOM) left recordings whose rows say 'recording', WAV files whose
// header sizes lag behind their data, Ogg Opus files ending in a torn page without
// end-of-stream (or files with no row at all, when it died
// between creating the file and inserting the row) and ActiveStream rows of
// streams that no longer exist. Run once before the server accepts requests:
// every such file is repaired and registered/finalized as 'recovered', stale
// streams are removed and the owners' friends are told they are offline.
// In a cluster (nodeScope = NODE_ID) it touches only this node's rows (and those
// from before clusters): other nodes are live. Orphan-file registration assumes
// this process is the only recorder writing to recordingsDir (one recordings
// folder per node).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Recording } from '../contract.js';
import { SAMPLE_RATE } from '../denoise/denoiser.js';
import { formatOfFile, rawCompanionName, repairRecording, type RepairedRecording } from '../media/recording/recording-files.js';
import { allActiveStreams, releaseActiveStream } from '../store/active-streams.js';
import type { Db } from '../store/db.js';
import {
  createRecording,
  deleteRecording,
  finalizeRecording,
  getRecording,
  knownRecordingFiles,
  parseRecordingFileName,
  toRecordingJson,
  unfinishedRecordings,
} from '../store/recordings.js';
import { findUserByUsername } from '../store/users.js';

export interface RecoveryDeps {
  db: Db;
  recordingsDir: string;
  /** null: every row is this node's (standalone); a NODE_ID: only that node's rows and those from before clusters. */
  nodeScope?: string | null;
  /** The control plane's Notifier (src/control/notifier.ts). */
  notifier: { toUserAndFriends(userId: number, msg: RecoveryMessage): Promise<void> };
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}

/** The WebSocket messages recovery publishes (docs/api.md). */
export type RecoveryMessage =
  | { type: 'streaming_status'; username: string; is_streaming: false }
  | { type: 'recording_added'; recording: Recording };

export interface RecoveryReport {
  /** Ids of rows finalized or registered as 'recovered'. */
  recovered: number[];
  /** Stale ActiveStream rows removed (their session ids). */
  staleStreams: string[];
  /** Files that could not be repaired or attributed (left on disk, logged). */
  skipped: string[];
}

export async function recoverRecordings(deps: RecoveryDeps): Promise<RecoveryReport> {
  const { db, recordingsDir, log } = deps;
  const report: RecoveryReport = { recovered: [], staleStreams: [], skipped: [] };
  let folderUsable = true;
  try {
    await mkdir(recordingsDir, { recursive: true });
  } catch (err) {
    // Streams still work without recordings (each start reports recording_stopped); say why loudly.
    log.error({ err, recordingsDir }, 'recordings folder unusable: recordings cannot be repaired or made until it is fixed');
    folderUsable = false;
  }

  // 1. Rows a crash left in 'recording' (kept for the next start while the folder is unusable).
  const scope = deps.nodeScope ?? null;
  for (const row of folderUsable ? await unfinishedRecordings(db, scope) : []) {
    const file = path.join(recordingsDir, row.file_name);
    if (!existsSync(file)) {
      // Recording never started (disk problem) or the file was removed: nothing to play, so no entry.
      await deleteRecording(db, row.id);
      log.warn({ recordingId: row.id, file: row.file_name }, 'unfinished recording without a file removed');
      continue;
    }
    const repaired = repairOrLog(file, row.sample_rate, deps, report);
    if (row.raw_file_name) repairOrLog(path.join(recordingsDir, row.raw_file_name), row.sample_rate, deps, report);
    await finalizeRecording(db, row.id, {
      endedAt: repaired?.endedAt ?? row.started_at,
      durationMs: repaired?.durationMs ?? 0,
      sizeBytes: repaired?.sizeBytes ?? 0,
      status: 'recovered',
    });
    report.recovered.push(row.id);
    log.warn({ recordingId: row.id, file: row.file_name, durationMs: repaired?.durationMs ?? 0 }, 'recording recovered after a crash');
  }

  // 2. Files without a row: register them under the owner named in the file name.
  const known = await knownRecordingFiles(db);
  for (const name of folderUsable ? readdirSync(recordingsDir).sort() : []) {
    if (known.has(name) || formatOfFile(name) === null) continue;
    const parsed = parseRecordingFileName(name);
    if (!parsed) {
      log.warn({ file: name }, 'unrecognized file in the recordings folder left alone');
      report.skipped.push(name);
      continue;
    }
    if (parsed.raw) continue; // registered together with its main file below
    const owner = await findUserByUsername(db, parsed.username);
    if (!owner) {
      log.warn({ file: name, username: parsed.username }, 'recording of an unknown user left alone');
      report.skipped.push(name);
      continue;
    }
    const repaired = repairOrLog(path.join(recordingsDir, name), SAMPLE_RATE, deps, report);
    if (!repaired) continue;
    const rawName = rawCompanionName(name);
    const hasRaw = !known.has(rawName) && repairOrLog(path.join(recordingsDir, rawName), SAMPLE_RATE, deps, report, true) !== null;
    const id = await createRecording(db, {
      ownerId: owner.id,
      fileName: name,
      rawFileName: hasRaw ? rawName : null,
      startedAt: parsed.startedAt,
      sampleRate: repaired.sampleRate,
      engine: 'unknown',
      status: 'recovered',
      endedAt: repaired.endedAt,
      durationMs: repaired.durationMs,
      sizeBytes: repaired.sizeBytes,
    });
    report.recovered.push(id);
    log.warn({ recordingId: id, file: name, durationMs: repaired.durationMs }, 'recording file without a row registered after a crash');
  }

  // 3. Streams that died with the previous process. Releasing the row is the
  // exactly-once guard, shared with LiveStreams.clearStale().
  const notify: Promise<void>[] = [];
  for (const stream of await allActiveStreams(db, scope)) {
    if (!(await releaseActiveStream(db, stream.session_id))) continue;
    report.staleStreams.push(stream.session_id);
    const user = await db.selectFrom('users').select('username').where('id', '=', stream.user_id).executeTakeFirst();
    log.warn({ sessionId: stream.session_id, user: user?.username }, 'stale live stream removed at start-up');
    if (user) notify.push(deps.notifier.toUserAndFriends(stream.user_id, { type: 'streaming_status', username: user.username, is_streaming: false }));
  }

  // 4. Recovered recordings appear in open lists (other nodes' clients, over the Redis bus).
  for (const id of report.recovered) {
    const row = await getRecording(db, id);
    if (row) notify.push(deps.notifier.toUserAndFriends(row.owner_id, { type: 'recording_added', recording: { ...toRecordingJson(row) } }));
  }
  for (const r of await Promise.allSettled(notify)) {
    if (r.status === 'rejected') log.error({ err: r.reason }, 'publishing a recovery notification failed');
  }
  if (report.recovered.length + report.staleStreams.length > 0) {
    log.info({ recovered: report.recovered.length, staleStreams: report.staleStreams.length }, 'crash recovery done');
  }
  return report;
}

type Repaired = RepairedRecording & { endedAt: string };

function repairOrLog(file: string, sampleRate: number, deps: RecoveryDeps, report: RecoveryReport, optional = false): Repaired | null {
  try {
    const r = repairRecording(file, sampleRate);
    // The last write is the best estimate of when the stream ended.
    return { ...r, endedAt: statSync(file).mtime.toISOString() };
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    deps.log.error({ file, err }, 'recording file could not be repaired');
    report.skipped.push(path.basename(file));
    return null;
  }
}
