import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerMessageSchema, WorkerRequestSchema } from '../../src/media/workers/worker-protocol.js';

const opts = {
  sessionId: 'b1a7e6d2-0000-4000-8000-000000000001',
  ownerId: 1,
  ownerName: 'ann',
  engine: 'rnnoise',
  denoise: { attenLimDb: null },
  recording: { filePath: '/data/recordings/x.wav', rawFilePath: null },
  maxListeners: 100,
};

describe('media worker protocol', () => {
  it('accepts every request type the main thread sends', () => {
    const requests = [
      { type: 'start-session', id: 1, opts },
      { type: 'answer-broadcaster', id: 2, sessionId: 's', sdp: 'v=0\r\n' },
      { type: 'add-listener', id: 3, sessionId: 's', listenerId: 'l', sdp: 'v=0\r\n' },
      { type: 'remove-listener', id: 4, sessionId: 's', listenerId: 'l' },
      { type: 'set-denoise-params', id: 5, sessionId: 's', params: { attenLimDb: 12 } },
      { type: 'stop-session', id: 6, sessionId: 's', reason: 'stopped' },
      { type: 'stats', id: 7 },
      { type: 'shutdown', id: 8 },
    ];
    for (const r of requests) assert.ok(WorkerRequestSchema.safeParse(r).success, r.type);
  });

  it('rejects unknown types, missing ids, bad engines, oversized SDP and bad end reasons', () => {
    const bad = [
      { type: 'launch-missiles', id: 1 },
      { type: 'stats' },
      { type: 'start-session', id: 1, opts: { ...opts, engine: 'magic' } },
      { type: 'start-session', id: 1, opts: { ...opts, denoise: { attenLimDb: -3 } } },
      { type: 'answer-broadcaster', id: 2, sessionId: 's', sdp: 'x'.repeat(64 * 1024 + 1) },
      { type: 'answer-broadcaster', id: 2, sessionId: '', sdp: 'v=0' },
      { type: 'stop-session', id: 6, sessionId: 's', reason: 'bored' },
      { type: 'stats', id: -1 },
    ];
    for (const r of bad) assert.equal(WorkerRequestSchema.safeParse(r).success, false, JSON.stringify(r).slice(0, 80));
  });

  it('accepts the worker messages: handshake, response, failure, notifications', () => {
    const summary = { sessionId: 's', engine: 'none', durationMs: 10, recording: null, receivedAudioMs: 10 };
    const messages = [
      { type: 'ready', engine: 'rnnoise', fallbackReason: 'DeepFilterNet3 engine not available' },
      { type: 'response', id: 1, result: { sdp: 'v=0' } },
      { type: 'failure', id: 2, error: { code: 'listener-limit', message: 'full' } },
      { type: 'failure', id: 3, error: { code: 'internal', message: 'bug' } },
      { type: 'session-ended', summary, reason: 'no-media' },
      { type: 'listener-count', sessionId: 's', listeners: 3 },
      { type: 'recording-failed', sessionId: 's', message: 'disk full' },
      { type: 'log', level: 'warn', message: 'x', fields: { a: 1 } },
    ];
    for (const m of messages) assert.ok(WorkerMessageSchema.safeParse(m).success, m.type);
  });

  it('rejects worker messages with unknown error codes or malformed summaries', () => {
    const bad = [
      { type: 'failure', id: 2, error: { code: 'oops', message: 'x' } },
      { type: 'session-ended', summary: { sessionId: 's', engine: 'none' }, reason: 'stopped' },
      { type: 'listener-count', sessionId: 's', listeners: -1 },
      { type: 'ready', engine: 'none' },
    ];
    for (const m of bad) assert.equal(WorkerMessageSchema.safeParse(m).success, false, JSON.stringify(m));
  });
});
