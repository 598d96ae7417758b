// Listening to a friend's live stream from this tab: a receive-only
// RTCPeerConnection whose remote track plays through an <audio> element.
import { api } from '../api.js';
import { gatheredOffer } from './ice-gathering.js';

export type ListenState = 'idle' | 'connecting' | 'listening' | 'ended';

export interface ListenSnapshot {
  state: ListenState;
  connection: RTCPeerConnectionState | 'new';
  /** The remote stream once its track arrived. */
  stream: MediaStream | null;
  error: string | null;
}

const STOP_URL = '/api/webrtc/listen/stop/';

export class Listen {
  private snapshot: ListenSnapshot = { state: 'idle', connection: 'new', stream: null, error: null };
  private readonly subscribers = new Set<(s: ListenSnapshot) => void>();
  private pc: RTCPeerConnection | null = null;
  private listenerId: string | null = null;

  constructor(readonly username: string) {}

  getSnapshot(): ListenSnapshot {
    return this.snapshot;
  }

  subscribe(cb: (s: ListenSnapshot) => void): () => void {
    this.subscribers.add(cb);
    return () => this.subscribers.delete(cb);
  }

  async start(): Promise<void> {
    if (this.snapshot.state === 'connecting' || this.snapshot.state === 'listening') return;
    if (typeof RTCPeerConnection === 'undefined') {
      this.set({ state: 'ended', error: 'This browser does not support WebRTC.' });
      return;
    }
    const pc = new RTCPeerConnection();
    this.pc = pc;
    this.set({ state: 'connecting', connection: 'new', stream: null, error: null });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addEventListener('track', (e) => {
      if (this.pc !== pc) return;
      // Live talk, not music: ask the jitter buffer to stay as shallow as the network allows
      // (Chrome's default target adds tens of ms of playout delay). Unsupported browsers ignore it.
      if ('jitterBufferTarget' in e.receiver) (e.receiver as RTCRtpReceiver & { jitterBufferTarget: number | null }).jitterBufferTarget = 0;
      this.set({ stream: e.streams[0] ?? new MediaStream([e.track]) });
    });
    pc.addEventListener('connectionstatechange', () => {
      if (this.pc !== pc) return;
      const connection = pc.connectionState;
      this.set({ connection, state: connection === 'connected' ? 'listening' : this.snapshot.state });
      if (connection === 'failed') this.finish('The connection to the stream failed.');
    });
    try {
      const sdp = await gatheredOffer(pc);
      const answer = await api.post<{ sdp: string; listener_id: string }>('/api/webrtc/listen/', { username: this.username, sdp });
      if (this.pc !== pc) {
        // Stopped while the server was answering: free the server side too.
        void api.post(STOP_URL, { username: this.username, listener_id: answer.listener_id }).catch(() => undefined);
        return;
      }
      this.listenerId = answer.listener_id;
      window.addEventListener('pagehide', this.onPageHide);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    } catch (err) {
      if (this.pc === pc) this.finish(err instanceof Error ? err.message : String(err));
    }
  }

  /** Stop listening button. */
  async stop(): Promise<void> {
    const listenerId = this.listenerId;
    this.finish(null);
    if (listenerId === null) return;
    try {
      await api.post(STOP_URL, { username: this.username, listener_id: listenerId });
    } catch (err) {
      // The stream may have ended meanwhile; the server already freed everything then.
      console.warn('listen: stop request failed', err);
    }
  }

  /** The broadcaster went offline: the server already dropped our connection. */
  streamEnded(): void {
    if (this.snapshot.state === 'idle' || this.snapshot.state === 'ended') return;
    this.finish(null);
  }

  private readonly onPageHide = (): void => {
    if (this.listenerId === null) return;
    // text/plain JSON: a beacon cannot set application/json without a CORS preflight.
    navigator.sendBeacon(STOP_URL, JSON.stringify({ username: this.username, listener_id: this.listenerId }));
  };

  private finish(error: string | null): void {
    window.removeEventListener('pagehide', this.onPageHide);
    this.listenerId = null;
    const pc = this.pc;
    this.pc = null;
    pc?.close();
    this.set({ state: 'ended', stream: null, connection: 'closed', error });
  }

  private set(change: Partial<ListenSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const cb of [...this.subscribers]) {
      try {
        cb(this.snapshot);
      } catch (err) {
        console.error('listen: subscriber failed', err);
      }
    }
  }
}
