// What the control plane (main thread) may ask of the media plane (workers).
// The control plane never touches samples; it only calls this facade and
// listens to its events. Implemented by the worker pool in this folder.
import type { DenoiseEngineName } from '../config.js';
import type { DenoiseParams } from '../denoise/denoiser.js';

export interface StartSessionOptions {
  /** uuid chosen by the control plane; also ActiveStream.session_id. */
  sessionId: string;
  ownerId: number;
  ownerName: string;
  engine: DenoiseEngineName;
  denoise: DenoiseParams;
  /** Where the worker writes the recording (absolute paths), or null to not record. */
  recording: { filePath: string; rawFilePath: string | null } | null;
  maxListeners: number;
}

export interface RecordingSummary {
  filePath: string;
  rawFilePath: string | null;
  durationMs: number;
  sizeBytes: number;
  sampleRate: number;
  /** false when a disk error stopped recording early; what was written stays playable. */
  complete: boolean;
  error: string | null;
}

export interface SessionSummary {
  sessionId: string;
  /** Engine actually used (may differ from the request after a fallback). */
  engine: DenoiseEngineName;
  durationMs: number;
  /**
   * Audio decoded from the broadcaster's packets (received or rebuilt from FEC; not
   * concealment or silence), in ms; null when unknown (the worker crashed).
   */
  receivedAudioMs: number | null;
  recording: RecordingSummary | null;
}

export type SessionEndReason = 'stopped' | 'no-media' | 'ice-failed' | 'shutdown' | 'worker-crashed';

/** Why the media plane dropped a listener on its own: ICE/DTLS failed, the peer closed, or it never connected in time. */
export type ListenerEndReason = 'failed' | 'closed' | 'connect-timeout';

export interface MediaPlaneEvents {
  /** The media plane ended a session on its own (no media, ICE/DTLS failure, worker crash). */
  sessionEnded: (summary: SessionSummary, reason: SessionEndReason) => void;
  /** Recording stopped (disk full, unwritable); the live stream goes on. */
  recordingFailed: (sessionId: string, message: string) => void;
  listenerCountChanged: (sessionId: string, listeners: number) => void;
  /** The media plane dropped a listener on its own (not after removeListener). */
  listenerEnded: (sessionId: string, listenerId: string, reason: ListenerEndReason) => void;
}

export interface MediaPlane {
  startSession(opts: StartSessionOptions): Promise<{ engine: DenoiseEngineName }>;
  /** Broadcaster SDP offer → answer. */
  answerBroadcaster(sessionId: string, offerSdp: string): Promise<string>;
  /** Listener SDP offer → answer; rejects with MediaError 'listener-limit' when full. */
  addListener(sessionId: string, listenerId: string, offerSdp: string): Promise<string>;
  removeListener(sessionId: string, listenerId: string): Promise<void>;
  setDenoiseParams(sessionId: string, params: DenoiseParams): Promise<void>;
  /** Ends the session, finalizes its recording, resolves with the summary. Idempotent per id. */
  stopSession(sessionId: string, reason: SessionEndReason): Promise<SessionSummary | null>;
  listenerCount(sessionId: string): number;
  /** Engine the workers actually run for `DENOISE_ENGINE`, and why it fell back if it did (shown in UI and /api/health). */
  engineStatus(): { engine: DenoiseEngineName; fallbackReason: string | null };
  hasSession(sessionId: string): boolean;
  on<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void;
  off<E extends keyof MediaPlaneEvents>(event: E, listener: MediaPlaneEvents[E]): void;
  /** Graceful: stops every session (recordings finalized), then the workers. */
  close(): Promise<void>;
}

export type MediaErrorCode = 'no-such-session' | 'listener-limit' | 'bad-sdp' | 'invalid-state' | 'worker-unavailable';

export class MediaError extends Error {
  override name = 'MediaError';
  constructor(
    readonly code: MediaErrorCode,
    message: string,
  ) {
    super(message);
  }
}
