// StreamSession: one broadcaster peer connection and its listener peer
// connections, living on one worker. Each hop the worker's clock calls
// pull() (jitter buffer → one 10 ms input frame), denoises the frame together
// with the other sessions' frames, then deliver(): recorder, Opus encoder
// (once, 10 or 20 ms packets) and the same payload to every listener. An Ogg
// Opus recording stores those very packets (the encoder then runs even with
// nobody listening); a WAV recording takes the frames.
import { performance } from 'node:perf_hooks';
import { RTCPeerConnection, type RTCIceServer, type RtpPacket } from 'werift';
import type { Config, DenoiseEngineName } from '../../config.js';
import { FRAME_SIZE, SAMPLE_RATE, type DenoiseParams, type Denoiser } from '../../denoise/denoiser.js';
import { JitterBuffer, type FrameKind } from './jitter-buffer.js';
import { LatencyHistogram } from './latency-histogram.js';
import { ListenerPeer } from '../transport/listener-peer.js';
import {
  type ListenerEndReason,
  MediaError,
  type RecordingSummary,
  type SessionEndReason,
  type SessionSummary,
  type StartSessionOptions,
} from '../media-plane.js';
import { OpusDecoder } from './opus-decoder.js';
import { OpusEncoder } from './opus-encoder.js';
import { answerOffer, parseIceServers, peerConfig } from '../transport/peer-config.js';
import { OggOpusRecorder } from '../recording/ogg-opus-recorder.js';
import { WavRecorder } from '../recording/recorder.js';
import { formatOfFile } from '../recording/recording-files.js';
import { offerProblem } from '../transport/sdp-offer-check.js';
import { SrtpFastReceiver } from '../transport/srtp-fast-receiver.js';

export interface SessionHooks {
  ended(summary: SessionSummary, reason: SessionEndReason): void;
  listenerCount(listeners: number): void;
  /** A listener this session dropped on its own (failed, closed by the peer, never connected in time). */
  listenerEnded(listenerId: string, reason: ListenerEndReason): void;
  recordingFailed(message: string): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export type SessionState = 'live' | 'closing' | 'closed';

export interface SessionStats {
  sessionId: string;
  engine: DenoiseEngineName;
  listeners: number;
  hops: number;
  packetsOut: number;
  frames: Record<FrameKind, number>;
  jitter: ReturnType<JitterBuffer['toJSON']>;
  /** RTP packet in → first RTP packet out carrying its audio, ms (engine algorithmic delay not included). */
  addedLatencyMs: ReturnType<LatencyHistogram['toJSON']>;
  algorithmicLatencyMs: number;
  listenerSendErrors: number;
  /** Who receives the broadcaster's RTP: hushcast's SRTP fast path or werift (and why); counts of the fast path. */
  receive: { path: 'pending' | 'fast' | 'werift'; fallback: string | null; packets: number; rejected: number };
}

const SAMPLES_20MS = 960;
/** werift retransmits a DTLS flight for ~33 s before it gives up (flight.ts: 10 retries, 0.5 s … 5.5 s apart). */
export const HANDSHAKE_LIMIT_MS = 35_000;
/** Up to this many listeners, 10 ms input is forwarded as 10 ms packets (see deliver). */
const SHORT_PACKETS_MAX_LISTENERS = 32;
/** Listeners served per slice of fan-out work (≈1–2 ms of werift sends). */
const FANOUT_SLICE = 48;

export class StreamSession {
  readonly id: string;
  state: SessionState = 'live';
  /** This hop's input frame (filled by pull()). */
  readonly input = new Float32Array(FRAME_SIZE);

  private readonly startedAtMs: number;
  /** When the broadcaster's offer was answered and when its connection came up (0 = not yet). */
  private answeredAtMs = 0;
  private connectedAtMs = 0;
  private readonly decoder = new OpusDecoder();
  private readonly jitter: JitterBuffer;
  private readonly encoder = new OpusEncoder();
  private readonly pending = new Float32Array(SAMPLES_20MS);
  private pendingSamples = 0;
  private pendingArrivalMs = NaN;
  private readonly latency = new LatencyHistogram();
  /** The packet being fanned out (see drain). */
  private outPayload: Buffer | null = null;
  private outSamples = 0;
  private outCursor = 0;
  private outArrivalMs = NaN;
  private drainScheduled = false;
  private readonly drainLater = (): void => {
    this.drainScheduled = false;
    if (this.state === 'live') this.drain(FANOUT_SLICE);
  };
  private readonly iceServers: RTCIceServer[];
  private broadcaster: RTCPeerConnection | null = null;
  /** undefined: no packet yet; null: werift's receive path serves this broadcaster. */
  private fastReceiver: SrtpFastReceiver | null | undefined;
  private receiveFallback: string | null = null;
  /** Every incoming packet of the broadcaster, from either receive path. */
  private readonly receive = (seq: number, timestamp: number, payload: Buffer): void => {
    if (this.state !== 'live') return;
    this.jitter.processInput(seq, timestamp, payload, performance.now());
  };
  private readonly listeners = new Map<string, ListenerPeer>();
  /** The same peers as an array: the per-packet loop walks it without allocating an iterator. */
  private fanout: ListenerPeer[] = [];
  private recorder: WavRecorder | OggOpusRecorder | null = null;
  /** The recorder again when it stores the live encoder's packets (Ogg Opus), else null. */
  private packetRecorder: OggOpusRecorder | null = null;
  private rawRecorder: WavRecorder | OggOpusRecorder | null = null;
  private recordingFailure: string | null = null;
  private hops = 0;
  private packetsOut = 0;
  private readonly frames: Record<FrameKind, number> = { audio: 0, recovered: 0, concealed: 0, silence: 0 };
  private summary: Promise<SessionSummary> | null = null;

  constructor(
    private readonly opts: StartSessionOptions,
    readonly denoiser: Denoiser,
    private readonly config: Pick<
      Config,
      'noMediaTimeoutMs' | 'listenerConnectTimeoutMs' | 'iceAnnouncedAddress' | 'icePortMin' | 'icePortMax' | 'iceServers' | 'srtpFastPath'
    >,
    private readonly hooks: SessionHooks,
  ) {
    this.id = opts.sessionId;
    this.startedAtMs = performance.now();
    this.jitter = new JitterBuffer(this.decoder);
    this.iceServers = parseIceServers(config.iceServers);
    if (opts.recording) this.openRecorders(opts.recording);
  }

  get engine(): DenoiseEngineName {
    return this.denoiser.engine;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  async answerBroadcaster(offerSdp: string): Promise<string> {
    this.assertLive();
    const problem = offerProblem(offerSdp, 'send');
    if (problem) throw new MediaError('bad-sdp', problem);
    if (this.broadcaster) throw new MediaError('invalid-state', 'this stream already has a broadcaster connection');
    const pc = new RTCPeerConnection(peerConfig(this.config));
    this.broadcaster = pc;
    pc.onTrack.subscribe((track) => {
      if (track.kind !== 'audio') return;
      track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
        this.receive(rtp.header.sequenceNumber, rtp.header.timestamp, rtp.payload);
        // Once werift has delivered the first packet (DTLS up, SSRC known), the fast path takes over.
        if (this.fastReceiver === undefined) this.attachFastReceiver(pc, rtp);
      });
    });
    pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected' && this.connectedAtMs === 0) this.connectedAtMs = performance.now();
      if (s === 'failed') void this.endOnItsOwn('ice-failed');
    });
    this.answeredAtMs = performance.now();
    try {
      return await answerOffer(
        pc,
        offerSdp,
        this.iceServers,
        () => {
          for (const t of pc.getTransceivers()) if (t.kind === 'audio') t.setDirection('recvonly');
        },
        this.config.iceAnnouncedAddress,
      );
    } catch (err) {
      this.broadcaster = null;
      await pc.close().catch(() => {});
      if (this.state !== 'live') throw new MediaError('invalid-state', 'the stream ended');
      // werift's own exception text stays in the log: it is no message for a client.
      this.hooks.warn('werift could not apply a broadcaster offer', { sessionId: this.id, error: messageOf(err) });
      throw new MediaError('bad-sdp', 'the offer could not be applied');
    }
  }

  async addListener(listenerId: string, offerSdp: string): Promise<string> {
    this.assertLive();
    const problem = offerProblem(offerSdp, 'receive');
    if (problem) throw new MediaError('bad-sdp', problem);
    if (this.listeners.has(listenerId)) throw new MediaError('invalid-state', `listener ${listenerId} already connected`);
    if (this.listeners.size >= this.opts.maxListeners) {
      throw new MediaError('listener-limit', `this stream already has ${this.opts.maxListeners} listeners`);
    }
    const peer = new ListenerPeer(
      listenerId,
      new RTCPeerConnection(peerConfig(this.config)),
      this.config.srtpFastPath,
      (p, why) => {
        if (why !== 'closed') this.hooks.warn(`listener dropped: ${why}`, { sessionId: this.id, listenerId: p.id });
        if (!this.listeners.has(p.id)) return;
        void this.removeListener(p.id);
        if (this.state === 'live') this.hooks.listenerEnded(p.id, why);
      },
      this.config.listenerConnectTimeoutMs,
    );
    this.listeners.set(listenerId, peer);
    this.fanout = [...this.listeners.values()];
    this.hooks.listenerCount(this.listeners.size);
    try {
      return await peer.answer(offerSdp, this.iceServers, this.config.iceAnnouncedAddress);
    } catch (err) {
      const removedMeanwhile = !this.listeners.has(listenerId);
      await this.removeListener(listenerId);
      if (this.state !== 'live') throw new MediaError('invalid-state', 'the stream ended');
      if (removedMeanwhile) throw new MediaError('invalid-state', 'the listener was removed while its offer was answered');
      this.hooks.warn('werift could not apply a listener offer', { sessionId: this.id, listenerId, error: messageOf(err) });
      throw new MediaError('bad-sdp', 'the offer could not be applied');
    }
  }

  async removeListener(listenerId: string): Promise<void> {
    const peer = this.listeners.get(listenerId);
    if (!peer) return;
    this.listeners.delete(listenerId);
    this.fanout = [...this.listeners.values()];
    if (this.state === 'live') this.hooks.listenerCount(this.listeners.size);
    await peer.close().catch((err) => this.hooks.warn('closing a listener failed', { sessionId: this.id, error: messageOf(err) }));
  }

  private attachFastReceiver(pc: RTCPeerConnection, first: RtpPacket): void {
    if (!this.config.srtpFastPath) {
      this.fastReceiver = null;
      return;
    }
    const receiver = pc.getTransceivers().find((t) => t.kind === 'audio')?.receiver;
    const attached = receiver
      ? SrtpFastReceiver.attach(receiver, first.header.ssrc, first.header.payloadType, this.receive)
      : ({ ok: false, reason: 'no audio receiver' } as const);
    if (attached.ok) {
      this.fastReceiver = attached.receiver;
      return;
    }
    this.fastReceiver = null;
    this.receiveFallback = attached.reason;
    this.hooks.warn(`broadcaster RTP stays on werift's receive path: ${attached.reason}`, { sessionId: this.id });
  }

  setDenoiseParams(params: DenoiseParams): void {
    this.denoiser.setParams(params);
  }

  /** Hop, part 1: the next 10 ms of input (never waits) and the no-media watchdog. */
  pull(nowMs: number): void {
    this.hops++;
    const kind = this.jitter.processOutput(nowMs, this.input);
    this.frames[kind]++;
    this.rawRecorder?.write(this.input);
    // Silence is counted from the broadcaster's last packet, or from its connection coming up, or
    // (no offer yet) from the session's start. While its handshake is still running the limit is
    // the handshake's: DTLS over a lossy path retransmits for seconds, and a handshake that
    // cannot finish fails by itself (ice-failed) before HANDSHAKE_LIMIT_MS.
    const lastPacket = Math.max(this.jitter.lastPacketAtMs, this.connectedAtMs || this.startedAtMs);
    const handshaking = this.answeredAtMs > 0 && this.connectedAtMs === 0;
    const limit = handshaking ? Math.max(this.config.noMediaTimeoutMs, HANDSHAKE_LIMIT_MS) : this.config.noMediaTimeoutMs;
    if (nowMs - lastPacket > limit && this.state === 'live') {
      void this.endOnItsOwn('no-media');
    }
  }

  /** Hop, part 2: the denoised frame to the recorder, the encoder and every listener. */
  deliver(frame: Float32Array): void {
    if (this.state !== 'live') return;
    this.recorder?.write(frame);
    const inputSamples = this.jitter.packetSamples;
    // 20 ms input: output packets start where the broadcaster's start, so a packet's audio
    // leaves one hop after its second half arrives instead of waiting for half of the next.
    if (this.pendingSamples > 0 && inputSamples >= SAMPLES_20MS && this.jitter.lastFrameStartsPacket) this.flushPacket();
    if (this.pendingSamples === 0) this.pendingArrivalMs = this.jitter.lastFrameArrivalMs;
    this.pending.set(frame, this.pendingSamples);
    this.pendingSamples += FRAME_SIZE;
    // 10 ms input (browsers asked for ptime 10): small audiences get 10 ms packets too, the
    // lowest latency; large ones get 20 ms packets, half the per-listener send work. With
    // nobody listening (only the recording), 20 ms: half the encoder calls, better coding.
    const listeners = this.fanout.length;
    const short = inputSamples <= FRAME_SIZE && listeners > 0 && listeners <= SHORT_PACKETS_MAX_LISTENERS;
    if (this.pendingSamples === SAMPLES_20MS || short) this.flushPacket();
  }

  private flushPacket(): void {
    const samples = this.pendingSamples;
    this.pendingSamples = 0;
    // Nobody listening and a WAV recording (it already has the frames): nothing to encode.
    if (this.listeners.size === 0 && this.packetRecorder === null) return;
    let payload: Buffer;
    try {
      payload = this.encoder.encode(this.pending, samples);
    } catch (err) {
      this.hooks.warn('Opus encode failed', { sessionId: this.id, error: messageOf(err) });
      return;
    }
    this.packetRecorder?.writePacket(payload, samples);
    if (this.listeners.size === 0) return;
    // The previous packet must be out everywhere before this one (per-listener order).
    if (this.outPayload !== null) this.drain(Infinity);
    this.outPayload = payload;
    this.outSamples = samples;
    this.outCursor = 0;
    this.outArrivalMs = this.pendingArrivalMs;
    this.packetsOut++;
    this.drain(FANOUT_SLICE);
  }

  /**
   * Sends the current packet to up to `max` more listeners. With hundreds of listeners one
   * packet costs milliseconds of SRTP and UDP work in werift; done in slices, the worker's
   * event loop runs between them, so the next hop and incoming RTP are not held up.
   */
  private drain(max: number): void {
    const payload = this.outPayload;
    if (payload === null) return;
    const fanout = this.fanout;
    const end = Math.min(fanout.length, this.outCursor + max);
    for (let i = this.outCursor; i < end; i++) fanout[i]!.send(payload, this.outSamples);
    this.outCursor = end;
    if (end < fanout.length) {
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(this.drainLater);
      }
      return;
    }
    this.outPayload = null;
    // Latency to the LAST listener served: the worst any listener sees.
    const arrival = this.outArrivalMs;
    if (arrival === arrival) this.latency.record(performance.now() - arrival);
  }

  stats(): SessionStats {
    let listenerSendErrors = 0;
    for (const peer of this.listeners.values()) listenerSendErrors += peer.sendErrors;
    return {
      sessionId: this.id,
      engine: this.engine,
      listeners: this.listeners.size,
      hops: this.hops,
      packetsOut: this.packetsOut,
      frames: { ...this.frames },
      jitter: this.jitter.toJSON(),
      addedLatencyMs: this.latency.toJSON(),
      algorithmicLatencyMs: this.denoiser.latencyFrames * 10,
      listenerSendErrors,
      receive: this.receiveStats(),
    };
  }

  private receiveStats(): SessionStats['receive'] {
    const fast = this.fastReceiver;
    if (fast === undefined) return { path: 'pending', fallback: null, packets: 0, rejected: 0 };
    if (fast === null) return { path: 'werift', fallback: this.receiveFallback, packets: 0, rejected: 0 };
    return { path: fast.fallbackReason === null ? 'fast' : 'werift', fallback: fast.fallbackReason, packets: fast.packets, rejected: fast.rejected };
  }

  resetLatencyStats(): void {
    this.latency.reset();
  }

  /** Ends the session (idempotent: every caller gets the same summary). */
  close(): Promise<SessionSummary> {
    this.summary ??= this.doClose();
    return this.summary;
  }

  private async endOnItsOwn(reason: SessionEndReason): Promise<void> {
    if (this.summary) return;
    const summary = await this.close();
    this.hooks.ended(summary, reason);
  }

  private async doClose(): Promise<SessionSummary> {
    this.state = 'closing';
    const durationMs = Math.round(performance.now() - this.startedAtMs);
    const recording = this.closeRecorders();
    const peers = [...this.listeners.values()];
    this.listeners.clear();
    this.fanout = [];
    this.outPayload = null;
    this.fastReceiver?.detach();
    const closing: Promise<void>[] = peers.map((p) => p.close());
    if (this.broadcaster) closing.push(this.broadcaster.close());
    const settled = await Promise.allSettled(closing);
    for (const r of settled) {
      if (r.status === 'rejected') this.hooks.warn('closing a peer connection failed', { sessionId: this.id, error: messageOf(r.reason) });
    }
    this.encoder.close();
    this.decoder.close();
    this.denoiser.close();
    this.state = 'closed';
    const receivedAudioMs = (this.frames.audio + this.frames.recovered) * (FRAME_SIZE / (SAMPLE_RATE / 1000));
    return { sessionId: this.id, engine: this.engine, durationMs, receivedAudioMs, recording };
  }

  private openRecorders(rec: NonNullable<StartSessionOptions['recording']>): void {
    const fail = (message: string): void => {
      // A stopped Opus recording needs no more packets: without listeners the encoder can rest.
      this.packetRecorder = null;
      if (this.recordingFailure !== null) return;
      this.recordingFailure = message;
      this.hooks.recordingFailed(message);
    };
    const opus = formatOfFile(rec.filePath) === 'opus';
    try {
      if (opus) {
        this.packetRecorder = OggOpusRecorder.open(rec.filePath, { sharedEncoder: this.encoder });
        this.recorder = this.packetRecorder;
      } else {
        this.recorder = WavRecorder.open(rec.filePath, SAMPLE_RATE);
      }
      this.recorder.onError = fail;
    } catch (err) {
      this.hooks.warn('recording could not start', { sessionId: this.id, error: messageOf(err) });
      // Reported after construction returns, so the owner has registered the session.
      queueMicrotask(() => fail(`recording could not start: ${messageOf(err)}`));
      return;
    }
    if (rec.rawFilePath !== null) {
      try {
        // RECORD_RAW follows the format; the raw input has no live encoder, so it gets its own.
        this.rawRecorder =
          formatOfFile(rec.rawFilePath) === 'opus' ? OggOpusRecorder.open(rec.rawFilePath, { peaks: false }) : WavRecorder.open(rec.rawFilePath, SAMPLE_RATE);
        this.rawRecorder.onError = (m) => this.hooks.warn('raw recording stopped', { sessionId: this.id, error: m });
      } catch (err) {
        this.hooks.warn('raw recording could not start', { sessionId: this.id, error: messageOf(err) });
      }
    }
  }

  private closeRecorders(): RecordingSummary | null {
    const rec = this.opts.recording;
    if (!rec) return null;
    this.rawRecorder?.close();
    // The frames of a packet not yet encoded belong in an Opus recording too.
    if (this.packetRecorder !== null && this.pendingSamples > 0) {
      try {
        this.packetRecorder.writePacket(this.encoder.encode(this.pending, this.pendingSamples), this.pendingSamples);
      } catch (err) {
        this.hooks.warn('Opus encode failed', { sessionId: this.id, error: messageOf(err) });
      }
      this.pendingSamples = 0;
    }
    if (!this.recorder) {
      return {
        filePath: rec.filePath,
        rawFilePath: null,
        durationMs: 0,
        sizeBytes: 0,
        sampleRate: SAMPLE_RATE,
        complete: false,
        error: this.recordingFailure ?? 'recording never started',
      };
    }
    const r = this.recorder.close();
    return {
      filePath: rec.filePath,
      rawFilePath: this.rawRecorder ? rec.rawFilePath : null,
      durationMs: r.durationMs,
      sizeBytes: r.sizeBytes,
      sampleRate: r.sampleRate,
      complete: r.complete,
      error: r.error,
    };
  }

  private assertLive(): void {
    if (this.state !== 'live') throw new MediaError('invalid-state', 'the stream has ended');
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
