// werift client peers for the streaming tests: a broadcaster that sends Opus
// (or nothing) and a listener that counts what it receives. They signal through
// the real HTTP routes, non-trickle like the browser client.
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { OpusEncoder } from '../../src/media/session/opus-encoder.js';
import { peerConfig, suppressDefaultStun } from '../../src/media/transport/peer-config.js';
import type { Client } from './streams-harness.js';

const NO_ICE = { iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [] };

async function gatheredOffer(pc: RTCPeerConnection): Promise<string> {
  const offer = await pc.createOffer();
  suppressDefaultStun(pc, []);
  await pc.setLocalDescription(offer);
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const sub = pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }
  return pc.localDescription!.sdp;
}

function waitConnected(pc: RTCPeerConnection, timeoutMs = 10_000): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer not connected after ${timeoutMs} ms (${pc.connectionState})`)), timeoutMs);
    const sub = pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        sub.unSubscribe();
        resolve();
      }
    });
  });
}

export class BroadcasterPeer {
  readonly pc = new RTCPeerConnection(peerConfig(NO_ICE));
  private readonly track = new MediaStreamTrack({ kind: 'audio' });
  private transceiver: RTCRtpTransceiver;
  private timer: NodeJS.Timeout | null = null;
  private encoder: OpusEncoder | null = null;

  constructor() {
    this.transceiver = this.pc.addTransceiver(this.track, { direction: 'sendonly' });
  }

  /** Offer → POST /api/webrtc/offer/ → answer → connected. */
  async connect(client: Client, sessionId: string): Promise<void> {
    const sdp = await gatheredOffer(this.pc);
    const r = await client.post('/api/webrtc/offer/', { session_id: sessionId, sdp });
    if (r.status !== 200) throw new Error(`offer: ${r.status} ${JSON.stringify(r.body)}`);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: r.body.sdp });
    await waitConnected(this.pc);
  }

  /** Sends a 440 Hz tone as 20 ms Opus packets in real time until stopSending(). */
  startSending(): void {
    this.encoder ??= new OpusEncoder();
    const frame = new Float32Array(960);
    let seq = 1;
    let ts = 0;
    let phase = 0;
    const payloadType = this.transceiver.sender.codec?.payloadType ?? 111;
    this.timer = setInterval(() => {
      for (let i = 0; i < 960; i++) frame[i] = 0.3 * Math.sin((phase += (2 * Math.PI * 440) / 48_000));
      const payload = this.encoder!.encode(frame, 960);
      const header = new RtpHeader({ payloadType, sequenceNumber: seq++ & 0xffff, timestamp: ts >>> 0, marker: false });
      ts += 960;
      this.track.writeRtp(new RtpPacket(header, payload));
    }, 20);
  }

  stopSending(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async close(): Promise<void> {
    this.stopSending();
    this.encoder?.close();
    this.encoder = null;
    await this.pc.close();
  }
}

/**
 * A listener offer whose candidates lead nowhere: gathered by a werift peer that is closed
 * at once, so its sockets are gone and no ICE check will ever be answered.
 */
export async function deadListenerOffer(): Promise<string> {
  const pc = new RTCPeerConnection(peerConfig(NO_ICE));
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const sdp = await gatheredOffer(pc);
  await pc.close();
  return sdp;
}

/** A genuine werift offer (recvonly for a listener, sendonly for a broadcaster), from a peer closed afterwards. */
export async function weriftOffer(direction: 'recvonly' | 'sendonly'): Promise<string> {
  const pc = new RTCPeerConnection(peerConfig(NO_ICE));
  if (direction === 'sendonly') pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction });
  else pc.addTransceiver('audio', { direction });
  const sdp = await gatheredOffer(pc);
  await pc.close();
  return sdp;
}

export class ListenerPeer {
  readonly pc = new RTCPeerConnection(peerConfig(NO_ICE));
  packets = 0;
  listenerId = '';

  constructor() {
    const t = this.pc.addTransceiver('audio', { direction: 'recvonly' });
    t.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe(() => this.packets++);
    });
  }

  /** POST /api/webrtc/listen/; returns the HTTP reply (connects only on 200). */
  async listen(client: Client, username: string): Promise<{ status: number; body: any }> {
    const sdp = await gatheredOffer(this.pc);
    const r = await client.post('/api/webrtc/listen/', { username, sdp });
    if (r.status !== 200) return r;
    this.listenerId = r.body.listener_id;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: r.body.sdp });
    await waitConnected(this.pc);
    return r;
  }

  async close(): Promise<void> {
    await this.pc.close();
  }
}
