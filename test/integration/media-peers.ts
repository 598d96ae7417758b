// werift client peers for media tests and benchmarks: a broadcaster that
// sends real Opus RTP paced in real time (with optional loss, reordering and
// jitter injected before the packets leave), and listeners that record what
// they receive. Not a test file itself.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Encoder } from '@evan/opus';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import wavefile from 'wavefile';
import { OpusDecoder } from '../../src/media/session/opus-decoder.js';
import { peerConfig, suppressDefaultStun } from '../../src/media/transport/peer-config.js';

export const SHARED_DIR = process.env.HUSHCAST_SHARED_DIR ?? path.resolve(import.meta.dirname, '..', '..', '..', 'shared');

/** 48 kHz mono float samples of a file under ../shared/audio. */
export function loadSharedAudio(name: string): Float32Array {
  const file = path.join(SHARED_DIR, 'audio', name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new Error(`test audio ${file} missing: set HUSHCAST_SHARED_DIR to the shared folder (test/run.sh does)`);
  }
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as { sampleRate: number; numChannels: number };
  if (fmt.sampleRate !== 48_000 || fmt.numChannels !== 1) throw new Error(`${name}: expected 48 kHz mono`);
  const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array;
  const out = new Float32Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = samples[i]! / 32768;
  return out;
}

const CLIENT_ICE = { iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [] };

async function offerFrom(pc: RTCPeerConnection): Promise<string> {
  const offer = await pc.createOffer();
  suppressDefaultStun(pc, []);
  await pc.setLocalDescription(offer);
  return pc.localDescription!.sdp;
}

export function waitConnected(pc: RTCPeerConnection, timeoutMs = 20_000): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const dtls = pc.dtlsTransports.map((d) => d.state).join(',');
      reject(new Error(`peer not connected after ${timeoutMs} ms (connection ${pc.connectionState}, ICE ${pc.iceConnectionState}, DTLS ${dtls})`));
    }, timeoutMs);
    const { unSubscribe } = pc.connectionStateChange.subscribe((s) => {
      if (s === 'connected') {
        clearTimeout(timer);
        unSubscribe();
        resolve();
      } else if (s === 'failed' || s === 'closed') {
        clearTimeout(timer);
        unSubscribe();
        reject(new Error(`peer ${s}`));
      }
    });
  });
}

export interface Impairment {
  /** Drop these packet indexes (0-based) … */
  drop?: (index: number) => boolean;
  /** … and hold these back by this many ms (reordering / jitter). */
  delayMs?: (index: number) => number;
}

export class TestBroadcaster {
  readonly pc = new RTCPeerConnection(peerConfig(CLIENT_ICE));
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  // 'audio' keeps the waveform, so received audio can be compared sample by sample.
  private readonly encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'audio' });
  private timer: NodeJS.Timeout | null = null;
  private readonly delayed = new Set<NodeJS.Timeout>();
  /** performance.now() when each packet left (index = packet number), NaN when dropped. */
  readonly sentAt: number[] = [];
  sent = 0;

  constructor() {
    this.encoder.inband_fec = true;
    this.encoder.packet_loss = 10;
    this.encoder.bitrate = 48_000;
    this.pc.addTransceiver(this.track, { direction: 'sendonly' });
  }

  offer(): Promise<string> {
    return offerFrom(this.pc);
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    await waitConnected(this.pc);
  }

  /** Sends `signal` as 20 ms Opus packets in real time; resolves when the last one left. */
  play(signal: Float32Array, impair: Impairment = {}, loop = false, packetMs: 10 | 20 = 20): Promise<void> {
    const size = packetMs * 48;
    const pcm = new Int16Array(size);
    const packets = Math.floor(signal.length / size);
    const seq0 = 1000;
    const ts0 = 123_456;
    const t0 = performance.now();
    let i = 0;
    return new Promise((resolve) => {
      const tick = (): void => {
        while (performance.now() >= t0 + i * packetMs) {
          if (!loop && i >= packets) {
            this.timer = null;
            resolve();
            return;
          }
          const k = i % packets;
          for (let j = 0; j < size; j++) pcm[j] = Math.max(-32768, Math.min(32767, Math.round(signal[k * size + j]! * 32767)));
          const payload = Buffer.from(this.encoder.encode(pcm));
          const header = new RtpHeader({ sequenceNumber: (seq0 + i) & 0xffff, timestamp: (ts0 + i * size) >>> 0, payloadType: 111, marker: i === 0 });
          const packet = new RtpPacket(header, payload);
          const index = i;
          i++;
          if (impair.drop?.(index)) {
            this.sentAt[index] = NaN;
            continue;
          }
          const delay = impair.delayMs?.(index) ?? 0;
          if (delay > 0) {
            const t = setTimeout(() => {
              this.delayed.delete(t);
              this.sentAt[index] = performance.now();
              this.track.writeRtp(packet);
            }, delay);
            this.delayed.add(t);
          } else {
            this.sentAt[index] = performance.now();
            this.track.writeRtp(packet);
          }
          this.sent++;
        }
        this.timer = setTimeout(tick, Math.max(0, t0 + i * packetMs - performance.now()));
      };
      tick();
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const t of this.delayed) clearTimeout(t);
    this.delayed.clear();
  }

  async close(): Promise<void> {
    this.stop();
    await this.pc.close();
  }
}

export class TestListener {
  readonly pc = new RTCPeerConnection(peerConfig(CLIENT_ICE));
  private readonly decoder = new OpusDecoder();
  /** Decoded audio placed by RTP timestamp (gaps stay zero). */
  private audio = new Float32Array(48_000 * 30);
  private firstTs: number | null = null;
  packets = 0;
  ssrcs = new Set<number>();
  readonly arrivals: number[] = [];
  maxSampleIndex = 0;
  decodeErrors = 0;

  constructor(seconds = 30) {
    this.audio = new Float32Array(48_000 * seconds);
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    });
  }

  private readonly scratch = new Float32Array(5760);
  private onRtp(rtp: RtpPacket): void {
    this.packets++;
    this.arrivals.push(performance.now());
    this.ssrcs.add(rtp.header.ssrc);
    if (this.firstTs === null) this.firstTs = rtp.header.timestamp;
    const at = (rtp.header.timestamp - this.firstTs) >>> 0;
    let n = 0;
    try {
      n = this.decoder.decode(rtp.payload, this.scratch, 0);
    } catch {
      this.decodeErrors++;
      return;
    }
    if (at + n > this.audio.length) return;
    this.audio.set(this.scratch.subarray(0, n), at);
    this.maxSampleIndex = Math.max(this.maxSampleIndex, at + n);
  }

  /** Audio received so far, from the first packet on. */
  received(): Float32Array {
    return this.audio.subarray(0, this.maxSampleIndex);
  }

  offer(): Promise<string> {
    return offerFrom(this.pc);
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    await waitConnected(this.pc);
  }

  async close(): Promise<void> {
    this.decoder.close();
    await this.pc.close();
  }
}
