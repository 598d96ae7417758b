// Recordings API (docs/api.md "Recordings", issue 4): list, play/download with
// HTTP Range, delete. A recording exists only for its owner and the owner's
// current friends: everyone else gets the same 404 as for an id that never
// existed. Clients name recordings by id; file paths come from the row only.
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { deleteRecording, getVisibleRecording, listVisibleRecordings, toRecordingJson } from '../store/recordings.js';
import { findUserByUsername } from '../store/users.js';
import { opusPeaks } from '../media/recording/opus-peaks.js';
import { opusAsWav } from '../media/recording/opus-to-wav.js';
import { CONTENT_TYPE, formatOfFile, sideFilesOf } from '../media/recording/recording-files.js';
import { wavPeaks } from '../media/recording/wav-peaks.js';
import { parseByteRange } from './byte-range.js';
import { ApiError } from './errors.js';
import { recoverRecordings } from './recovery.js';
import { parseInput } from './validation.js';

export const MAX_PAGE = 100;
export const MAX_PEAK_BUCKETS = 4000;

const ListQuery = z.object({
  owner: z.string().min(1).max(64).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(20),
});
const IdParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const PeaksQuery = z.object({ buckets: z.coerce.number().int().min(1).max(MAX_PEAK_BUCKETS).default(1000) });
const Flag = z.enum(['0', '1', 'true', 'false']).optional();
// format=wav: an Ogg Opus recording decoded on the fly into WAV (a WAV recording is served as is).
const AudioQuery = z.object({ download: Flag, raw: Flag, format: z.enum(['wav']).optional() });

function notFound(): ApiError {
  return new ApiError('NOT_FOUND', 'No such recording (it was deleted, or it is not shared with you).');
}

export async function recordingsPlugin(app: FastifyInstance): Promise<void> {
  const { db, config, notifier, cluster } = app.services;

  // Also run by the streams feature; a second run finds nothing to do. Here it covers
  // apps built without a media plane, which still list and serve recordings. In a cluster
  // only this node's rows are its to repair: the other nodes are live.
  await recoverRecordings({ db, recordingsDir: config.recordingsDir, notifier, log: app.log, nodeScope: cluster ? config.nodeId : null });

  const list = async (request: FastifyRequest) => {
    const q = parseInput(ListQuery, request.query, 'query');
    let ownerId: number | undefined;
    if (q.owner !== undefined) {
      const owner = await findUserByUsername(db, q.owner);
      // An unknown user and a non-friend look alike: an empty list.
      if (!owner) return { recordings: [], next_before: null };
      ownerId = owner.id;
    }
    const page = await listVisibleRecordings(db, request.user.id, { ownerId, before: q.before, limit: q.limit });
    return { recordings: page.recordings.map(toRecordingJson), next_before: page.nextBefore };
  };
  app.get('/api/recordings/', { preHandler: app.requireUser }, list);
  app.get('/api/recordings', { preHandler: app.requireUser }, list);

  app.get('/api/recordings/:id/audio', { preHandler: app.requireUser }, async (request, reply) => {
    const { id } = parseInput(IdParams, request.params, 'id');
    const q = parseInput(AudioQuery, request.query, 'query');
    const download = q.download === '1' || q.download === 'true';
    const raw = q.raw === '1' || q.raw === 'true';
    const row = await getVisibleRecording(db, request.user.id, id);
    if (!row) throw notFound();
    // ?raw=1: the un-denoised companion kept when RECORD_RAW is set (A/B listening).
    const name = raw ? row.raw_file_name : row.file_name;
    if (!name) throw new ApiError('NOT_FOUND', 'This recording has no un-denoised copy (RECORD_RAW was off).');
    const file = path.join(config.recordingsDir, path.basename(name));
    const format = formatOfFile(name) ?? 'wav';
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      request.log.error({ err, recordingId: id, file }, 'recording file missing');
      throw notFound();
    }
    // Finalized recordings never change, but a deletion must not linger in caches.
    reply.header('cache-control', 'private, no-cache');
    if (format === 'opus' && q.format === 'wav') {
      // Decoded as it is sent: no ranges (the bytes do not exist until decoded), exact length.
      const wav = await opusAsWav(file);
      reply.header('content-type', CONTENT_TYPE.wav).header('accept-ranges', 'none').header('content-length', String(wav.sizeBytes));
      if (download) reply.header('content-disposition', `attachment; filename="${name.replace(/\.opus$/, '.wav').replace(/["\\]/g, '_')}"`);
      return reply.send(wav.stream);
    }
    reply.header('content-type', CONTENT_TYPE[format]).header('accept-ranges', 'bytes');
    if (download) reply.header('content-disposition', `attachment; filename="${name.replace(/["\\]/g, '_')}"`);
    const range = parseByteRange(request.headers.range, size);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new ApiError('RANGE_NOT_SATISFIABLE', `The requested range is not within the recording (${size} bytes).`);
    }
    if (range === null) {
      reply.header('content-length', String(size));
      return reply.send(createReadStream(file));
    }
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
      .header('content-length', String(range.end - range.start + 1));
    return reply.send(createReadStream(file, { start: range.start, end: range.end }));
  });

  // Extension of docs/api.md: the waveform overview, so the player draws a long recording
  // without downloading it whole (it then plays it with Range requests).
  app.get('/api/recordings/:id/peaks', { preHandler: app.requireUser }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'id');
    const { buckets } = parseInput(PeaksQuery, request.query, 'query');
    const row = await getVisibleRecording(db, request.user.id, id);
    if (!row) throw notFound();
    const file = path.join(config.recordingsDir, path.basename(row.file_name));
    try {
      const p = formatOfFile(row.file_name) === 'opus' ? await opusPeaks(file, buckets) : await wavPeaks(file, buckets);
      return { duration_ms: p.durationMs, sample_rate: p.sampleRate, peaks: p.peaks };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      request.log.error({ err, recordingId: id, file }, 'recording file missing');
      throw notFound();
    }
  });

  app.delete('/api/recordings/:id', { preHandler: app.requireUser }, async (request) => {
    const { id } = parseInput(IdParams, request.params, 'id');
    const row = await getVisibleRecording(db, request.user.id, id);
    if (!row) throw notFound();
    if (row.owner_id !== request.user.id) throw new ApiError('NOT_OWNER', 'Only the owner can delete a recording.');
    if (row.status === 'recording') {
      throw new ApiError('RECORDING_IN_PROGRESS', 'This recording is still being made; stop the stream first.');
    }
    // Files first: if one cannot be removed the row stays and the user can retry; the other
    // order would leave an orphan file that start-up recovery registers again.
    for (const name of [row.raw_file_name, ...sideFilesOf(row.file_name), row.file_name]) {
      if (!name) continue;
      try {
        await unlink(path.join(config.recordingsDir, path.basename(name)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        request.log.error({ err, recordingId: id, file: name }, 'deleting a recording file failed');
        throw new ApiError('INTERNAL', 'The recording file could not be deleted. Please try again.');
      }
    }
    if (!(await deleteRecording(db, id))) throw notFound();
    // Open lists (the owner's other tabs, friends) drop it live. The delete is already done, so a
    // bus failure is logged, not answered with a 500 that would invite a retry; lists heal on reload.
    try {
      await notifier.toUserAndFriends(request.user.id, { type: 'recording_deleted', id });
    } catch (err) {
      request.log.error({ err, recordingId: id }, 'real-time notification failed');
    }
    return { message: 'Recording deleted.' };
  });
}
