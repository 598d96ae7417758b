// The message protocol between the control plane (main thread) and a media
// worker. Requests carry a number and get exactly one response with that
// number; notifications flow from the worker on their own. Both ends validate
// what they receive with these schemas, so a bug on one side shows up as a
// clear protocol error, not as undefined behaviour on the other.
import { z } from 'zod';
import type { HopClockStats } from './hop-clock.js';
import type { LatencyHistogram } from '../session/latency-histogram.js';
import type { ThreadScheduling } from './realtime-priority.js';
import type { SessionStats } from '../session/stream-session.js';

const engine = z.enum(['dfn3', 'rnnoise', 'none']);
const denoiseParams = z.object({ attenLimDb: z.number().min(0).max(100).nullable() });
const endReason = z.enum(['stopped', 'no-media', 'ice-failed', 'shutdown', 'worker-crashed']);
const listenerEndReason = z.enum(['failed', 'closed', 'connect-timeout']);
const sessionId = z.string().min(1).max(200);
const sdp = z.string().min(1).max(64 * 1024);

export const StartSessionOptionsSchema = z.object({
  sessionId,
  ownerId: z.number().int(),
  ownerName: z.string(),
  engine,
  denoise: denoiseParams,
  recording: z.object({ filePath: z.string().min(1), rawFilePath: z.string().min(1).nullable() }).nullable(),
  maxListeners: z.number().int().min(0),
});

const id = z.number().int().nonnegative();

export const WorkerRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start-session'), id, opts: StartSessionOptionsSchema }),
  z.object({ type: z.literal('answer-broadcaster'), id, sessionId, sdp }),
  z.object({ type: z.literal('add-listener'), id, sessionId, listenerId: z.string().min(1).max(200), sdp }),
  z.object({ type: z.literal('remove-listener'), id, sessionId, listenerId: z.string().min(1).max(200) }),
  z.object({ type: z.literal('set-denoise-params'), id, sessionId, params: denoiseParams }),
  z.object({ type: z.literal('stop-session'), id, sessionId, reason: endReason }),
  z.object({ type: z.literal('stats'), id, resetLatency: z.boolean().default(false) }),
  /** Graceful: stop every session (summaries are sent as session-ended 'shutdown'), then exit. */
  z.object({ type: z.literal('shutdown'), id }),
]);
export type WorkerRequest = z.infer<typeof WorkerRequestSchema>;
/** What the main thread builds (before zod fills defaults). */
export type WorkerRequestInput = z.input<typeof WorkerRequestSchema>;

const mediaErrorCode = z.enum(['no-such-session', 'listener-limit', 'bad-sdp', 'invalid-state', 'worker-unavailable']);

export const RecordingSummarySchema = z.object({
  filePath: z.string(),
  rawFilePath: z.string().nullable(),
  durationMs: z.number(),
  sizeBytes: z.number(),
  sampleRate: z.number(),
  complete: z.boolean(),
  error: z.string().nullable(),
});

export const SessionSummarySchema = z.object({
  sessionId,
  engine,
  durationMs: z.number(),
  receivedAudioMs: z.number().nonnegative().nullable(),
  recording: RecordingSummarySchema.nullable(),
});

export const WorkerMessageSchema = z.discriminatedUnion('type', [
  /** Handshake: the worker loaded its default engine and can take sessions. */
  z.object({ type: z.literal('ready'), engine, fallbackReason: z.string().nullable() }),
  z.object({ type: z.literal('response'), id, result: z.unknown() }),
  /** The request failed; code is a MediaErrorCode, or 'internal' for a bug. */
  z.object({
    type: z.literal('failure'),
    id,
    error: z.object({ code: mediaErrorCode.or(z.literal('internal')), message: z.string() }),
  }),
  z.object({ type: z.literal('session-ended'), summary: SessionSummarySchema, reason: endReason }),
  z.object({ type: z.literal('listener-count'), sessionId, listeners: z.number().int().nonnegative() }),
  z.object({ type: z.literal('listener-ended'), sessionId, listenerId: z.string().min(1).max(200), reason: listenerEndReason }),
  z.object({ type: z.literal('recording-failed'), sessionId, message: z.string() }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string(),
    fields: z.record(z.string(), z.unknown()),
  }),
]);
export type WorkerMessage = z.infer<typeof WorkerMessageSchema>;

/** Result payloads per request type (validated on arrival by the main thread). */
export const StartResultSchema = z.object({ engine, fallbackReason: z.string().nullable() });
export const SdpResultSchema = z.object({ sdp: z.string() });
export const StopResultSchema = z.object({ summary: SessionSummarySchema.nullable() });

export interface WorkerStats {
  sessions: number;
  listeners: number;
  clock: HopClockStats;
  /** Per hop, ms spent pulling input, denoising and delivering (encode + fan-out), summed over sessions. */
  /** How the worker thread is scheduled (real-time or not, and why not). */
  scheduling: ThreadScheduling;
  phases: Record<'pull' | 'denoise' | 'deliver', ReturnType<LatencyHistogram['toJSON']>>;
  perSession: SessionStats[];
}
