// One live broadcast from this tab: microphone → RTCPeerConnection → server.
// Order matters: the microphone is opened before the server session exists, so
// a denied permission never leaves a stream behind; any failure after
// /api/stream/start/ stops the server session again.
import { api } from '../api.js';
import { gatheredOffer } from './ice-gathering.js';
import { describeMicrophoneError, microphoneUnavailableReason } from './media-errors.js';
import { UPLINK_PTIME_MS, withPtime } from './ptime.js';

export type BroadcastState = 'idle' | 'opening-mic' | 'starting' | 'connecting' | 'live' | 'stopping' | 'ended';

export interface StartedStream {
  session_id: string;
  started_at: string;
  engine: string;
  /** Initial noise-reduction strength (null = full). */
  atten_lim_db: number | null;
}

export interface BroadcastSnapshot {
  state: BroadcastState;
  stream: StartedStream | null;
  /** WebRTC connection state of the uplink. */
  connection: RTCPeerConnectionState | 'new';
  error: string | null;
}

const STOP_URL = '/api/stream/stop/';

export class Broadcast {
  private snapshot: BroadcastSnapshot = { state: 'idle', stream: null, connection: 'new', error: null };
  private readonly subscribers = new Set<(s: BroadcastSnapshot) => void>();
  private pc: RTCPeerConnection | null = null;
  private mic: MediaStream | null = null;

  /** The microphone stream (for the level meter) while live. */
  get microphone(): MediaStream | null {
    return this.mic;
  }

  getSnapshot(): BroadcastSnapshot {
    return this.snapshot;
  }

  subscribe(cb: (s: BroadcastSnapshot) => void): () => void {
    this.subscribers.add(cb);
    return () => this.subscribers.delete(cb);
  }

  async start(): Promise<void> {
    if (this.snapshot.state !== 'idle' && this.snapshot.state !== 'ended') return;
    const unavailable = microphoneUnavailableReason();
    if (unavailable) return this.fail(unavailable);
    this.set({ state: 'opening-mic', stream: null, connection: 'new', error: null });
    try {
      // Raw capture: the server's denoiser does the cleaning, and the browser's own
      // processing would smear the signal it expects (and add latency).
      this.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      });
    } catch (err) {
      return this.fail(describeMicrophoneError(err));
    }
    this.set({ state: 'starting' });
    let stream: StartedStream;
    try {
      ({ stream } = await api.post<{ stream: StartedStream }>('/api/stream/start/'));
    } catch (err) {
      this.releaseMedia();
      return this.fail(err instanceof Error ? err.message : String(err));
    }
    window.addEventListener('beforeunload', this.onUnload);
    this.set({ state: 'connecting', stream });
    try {
      const pc = new RTCPeerConnection();
      this.pc = pc;
      pc.addEventListener('connectionstatechange', () => this.onConnectionState(pc));
      for (const track of this.mic.getAudioTracks()) pc.addTrack(track, this.mic);
      const sdp = await gatheredOffer(pc);
      const answer = await api.post<{ sdp: string }>('/api/webrtc/offer/', { session_id: stream.session_id, sdp });
      if (this.pc !== pc) return; // stopped meanwhile
      await pc.setRemoteDescription({ type: 'answer', sdp: withPtime(answer.sdp, UPLINK_PTIME_MS) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await this.stop();
      return this.fail(`Could not connect to the server: ${message}`);
    }
  }

  /** Stop button. Safe to call in any state. */
  async stop(): Promise<void> {
    const wasStarted = this.snapshot.stream !== null && this.snapshot.state !== 'ended';
    if (!wasStarted) {
      this.releaseMedia();
      if (this.snapshot.state !== 'idle') this.set({ state: 'ended' });
      return;
    }
    this.set({ state: 'stopping' });
    window.removeEventListener('beforeunload', this.onUnload);
    this.releaseMedia();
    try {
      await api.post(STOP_URL);
    } catch (err) {
      // 409 NOT_STREAMING: the server already ended it (no media, other tab) — that is the goal.
      if (!(err instanceof Error && 'code' in err && err.code === 'NOT_STREAMING')) {
        this.set({ state: 'ended', error: err instanceof Error ? err.message : String(err) });
        return;
      }
    }
    this.set({ state: 'ended' });
  }

  /** The server says the stream ended (streaming_status false): drop the uplink. */
  endedByServer(message: string | null): void {
    if (this.snapshot.state === 'idle' || this.snapshot.state === 'ended' || this.snapshot.state === 'stopping') return;
    if (this.snapshot.state === 'opening-mic' || this.snapshot.state === 'starting') return;
    window.removeEventListener('beforeunload', this.onUnload);
    this.releaseMedia();
    this.set({ state: 'ended', error: message });
  }

  private readonly onUnload = (): void => {
    // sendBeacon survives the page going away; fetch would be cancelled.
    navigator.sendBeacon(STOP_URL);
  };

  private onConnectionState(pc: RTCPeerConnection): void {
    if (this.pc !== pc) return;
    const connection = pc.connectionState;
    if (connection === 'connected' && this.snapshot.state === 'connecting') this.set({ state: 'live', connection });
    else this.set({ connection });
    if (connection === 'failed') {
      void this.stop().then(() => this.set({ error: 'The connection to the server failed; your stream was stopped.' }));
    }
  }

  private releaseMedia(): void {
    const pc = this.pc;
    this.pc = null;
    pc?.close();
    for (const t of this.mic?.getTracks() ?? []) t.stop();
    this.mic = null;
  }

  private fail(error: string): void {
    this.set({ state: 'ended', error });
  }

  private set(change: Partial<BroadcastSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const cb of [...this.subscribers]) {
      try {
        cb(this.snapshot);
      } catch (err) {
        console.error('broadcast: subscriber failed', err);
      }
    }
  }
}
