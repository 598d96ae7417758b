// Light client peers for the media benchmarks: broadcasters replay audio
// encoded once (so the client's CPU goes to networking, not to encoding), and
// listeners only count packets and sequence gaps.
import os from 'node:os';
import { Encoder } from '@evan/opus';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { peerConfig, suppressDefaultStun } from '../src/media/transport/peer-config.js';
import { loadSharedAudio, waitConnected } from '../test/integration/media-peers.js';

const ICE = { iceAnnouncedAddress: undefined, icePortMin: undefined, icePortMax: undefined, iceServers: [] };

/** Benchmarks measure the server, not ICE: clients only pair loopback candidates (fewer checks, no LAN traffic). */
function loopbackPeer(): RTCPeerConnection {
  return new RTCPeerConnection({
    ...peerConfig(ICE),
    iceFilterCandidatePair: (pair) => pair.localCandidate.host === '127.0.0.1' && pair.remoteCandidate.host === '127.0.0.1',
  });
}

/**
 * The client peers stand in for users on other machines, but here they share the server's
 * two cores. Call once the server processes are forked (a fork inherits the nice value):
 * the bench's own thread drops to the lowest CPU priority, so the numbers measure what the
 * server can carry, not how the scheduler splits the cores between server and clients.
 * The price: the broadcasters' 20 ms send clock runs on that thread too and gets jittery
 * when the machine is busy, and the server's jitter buffer (rightly) waits for jittery
 * input. So bench:streams (capacity) uses 19 and bench:fanout (latency) keeps 0.
 * BENCH_CLIENT_NICE overrides either.
 */
export function deprioritizeClients(defaultNice: number): number {
  const nice = Number(process.env.BENCH_CLIENT_NICE ?? defaultNice);
  os.setPriority(nice);
  return os.getPriority();
}

/** A join that fails under load is retried with a fresh peer (the count is what is measured). */
export async function withRetry<T>(attempts: number, make: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await make();
    } catch (err) {
      if (i >= attempts || (err instanceof Error && err.name === 'EngineUnavailable')) throw err;
      console.warn(`join failed (${err instanceof Error ? err.message : String(err)}); retrying`);
    }
  }
}

/** 20 ms Opus packets of the shared noisy speech clip (looped by the sender). */
export function preparePackets(seconds = 10): Buffer[] {
  const signal = loadSharedAudio('noisy_snr0.wav');
  const enc = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  enc.inband_fec = true;
  enc.packet_loss = 5;
  const pcm = new Int16Array(960);
  const packets: Buffer[] = [];
  for (let k = 0; k < seconds * 50 && (k + 1) * 960 <= signal.length; k++) {
    for (let j = 0; j < 960; j++) pcm[j] = Math.round(signal[k * 960 + j]! * 32767);
    packets.push(Buffer.from(enc.encode(pcm)));
  }
  return packets;
}

export async function offer(pc: RTCPeerConnection): Promise<string> {
  const o = await pc.createOffer();
  suppressDefaultStun(pc, []);
  await pc.setLocalDescription(o);
  return pc.localDescription!.sdp;
}

export class BenchBroadcaster {
  readonly pc = loopbackPeer();
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  private seq = Math.floor(Math.random() * 60_000);
  private ts = 1000;

  constructor() {
    this.pc.addTransceiver(this.track, { direction: 'sendonly' });
  }

  async connect(answer: (offerSdp: string) => Promise<string>): Promise<void> {
    const sdp = await answer(await offer(this.pc));
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await waitConnected(this.pc, 30_000);
  }

  send(payload: Buffer): void {
    this.track.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: this.seq, timestamp: this.ts, payloadType: 111 }), payload));
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
  }

  close(): Promise<void> {
    return this.pc.close();
  }
}

/**
 * Sends packet i of `packets` from every broadcaster each 20 ms, on absolute deadlines.
 * Broadcasters are independent users, so their packet clocks are not in phase: each gets
 * one of PHASES slots in the 20 ms period (round robin in join order). Sending them all at
 * the same instant would make every session's receive, encode and send work land in the
 * same 10 ms hop, a burst no real audience produces.
 */
export class PacedSender {
  static readonly PHASES = 4;
  private timer: NodeJS.Timeout | null = null;
  /** Slot counter: slot k sends packet ⌊k / PHASES⌋ from the broadcasters in phase k mod PHASES. */
  private k = 0;
  private t0 = 0;
  private joined = 0;
  private readonly phases: Set<BenchBroadcaster>[] = Array.from({ length: PacedSender.PHASES }, () => new Set());

  constructor(private readonly packets: Buffer[]) {}

  add(b: BenchBroadcaster): void {
    this.phases[this.joined++ % PacedSender.PHASES]!.add(b);
  }

  start(): void {
    this.t0 = performance.now();
    const slotMs = 20 / PacedSender.PHASES;
    const tick = (): void => {
      while (performance.now() >= this.t0 + this.k * slotMs) {
        const p = this.packets[Math.floor(this.k / PacedSender.PHASES) % this.packets.length]!;
        for (const b of this.phases[this.k % PacedSender.PHASES]!) b.send(p);
        this.k++;
      }
      this.timer = setTimeout(tick, Math.max(0, this.t0 + this.k * slotMs - performance.now()));
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

export class BenchListener {
  readonly pc = loopbackPeer();
  received = 0;
  private first = -1;
  private highest = -1;
  private counting = false;

  constructor() {
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (!this.counting) return;
        // Extended sequence number relative to the first packet counted.
        const s = rtp.header.sequenceNumber;
        if (this.first < 0) {
          this.first = s;
          this.highest = 0;
        }
        const ext = this.highest + ((((s - ((this.first + this.highest) & 0xffff)) + 0x8000) & 0xffff) - 0x8000);
        if (ext > this.highest) this.highest = ext;
        this.received++;
      });
    });
  }

  async connect(answer: (offerSdp: string) => Promise<string>): Promise<void> {
    const sdp = await answer(await offer(this.pc));
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await waitConnected(this.pc, 60_000);
  }

  startCounting(): void {
    this.counting = true;
    this.received = 0;
    this.first = -1;
    this.highest = -1;
  }

  /** Packets the sender numbered in the window that never arrived. */
  lost(): number {
    if (this.first < 0) return 0;
    return Math.max(0, this.highest + 1 - this.received);
  }

  close(): Promise<void> {
    return this.pc.close();
  }
}

/** Runs fn over items with at most `limit` in flight. */
export async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
