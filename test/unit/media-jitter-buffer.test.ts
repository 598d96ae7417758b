import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Encoder } from '@evan/opus';
import { FRAME_SIZE } from '../../src/denoise/denoiser.js';
import { JitterBuffer, type FrameKind } from '../../src/media/session/jitter-buffer.js';
import { OpusDecoder } from '../../src/media/session/opus-decoder.js';
import { align, correlationAt, median, prng, windowedCorrelations } from '../integration/media-signal.js';

interface Packet {
  seq: number;
  ts: number;
  payload: Uint8Array;
}

/** Harmonic tones with a moving pitch and a syllable-like envelope: Opus codes it faithfully. */
function voiceLike(seconds: number): Float32Array {
  const n = seconds * 48_000;
  const x = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / 48_000;
    const f0 = 140 + 40 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / 48_000;
    const env = 0.3 + 0.25 * Math.sin(2 * Math.PI * 3 * t);
    x[i] = env * (0.6 * Math.sin(phase) + 0.3 * Math.sin(2 * phase) + 0.15 * Math.sin(3 * phase));
  }
  return x;
}

function encode(signal: Float32Array, firstSeq = 1000): Packet[] {
  const enc = new Encoder({ channels: 1, sample_rate: 48_000, application: 'voip' });
  enc.inband_fec = true;
  enc.packet_loss = 10;
  enc.bitrate = 48_000;
  const pcm = new Int16Array(960);
  const packets: Packet[] = [];
  for (let k = 0; (k + 1) * 960 <= signal.length; k++) {
    for (let j = 0; j < 960; j++) pcm[j] = Math.round(signal[k * 960 + j]! * 32767);
    packets.push({ seq: (firstSeq + k) & 0xffff, ts: (5000 + k * 960) >>> 0, payload: enc.encode(pcm).slice() });
  }
  return packets;
}

/** The same packets decoded in order by a fresh decoder: what a perfect network gives. */
function reference(packets: Packet[]): Float32Array {
  const dec = new OpusDecoder();
  const out = new Float32Array(packets.length * 960);
  let at = 0;
  for (const p of packets) at += dec.decode(p.payload, out, at);
  dec.close();
  return out;
}

/** Delivers packets at their arrival times (NaN = lost) and pulls a frame every 10 ms of simulated time. */
function simulate(packets: Packet[], arrivalMs: number[], totalMs: number, buffer?: JitterBuffer) {
  const decoder = new OpusDecoder();
  const jb = buffer ?? new JitterBuffer(decoder);
  const order = packets.map((p, i) => ({ p, at: arrivalMs[i]! })).filter((e) => !Number.isNaN(e.at));
  order.sort((a, b) => a.at - b.at);
  const hops = Math.floor(totalMs / 10);
  const out = new Float32Array(hops * FRAME_SIZE);
  const kinds: FrameKind[] = [];
  const frame = new Float32Array(FRAME_SIZE);
  let next = 0;
  let maxLevelMs = 0;
  for (let h = 0; h < hops; h++) {
    const now = h * 10;
    while (next < order.length && order[next]!.at <= now) {
      const { p, at } = order[next++]!;
      jb.processInput(p.seq, p.ts, p.payload, at);
    }
    frame.fill(NaN);
    kinds.push(jb.processOutput(now, frame));
    assert.ok(frame.every((v) => Number.isFinite(v)), `hop ${h} produced a full frame`);
    out.set(frame, h * FRAME_SIZE);
    maxLevelMs = Math.max(maxLevelMs, jb.toJSON().levelMs);
  }
  return { out, kinds, stats: jb.toJSON(), maxLevelMs, jb };
}

const signal = voiceLike(4);
const packets = encode(signal);
const ref = reference(packets);
const steady = packets.map((_, k) => k * 20 + 1);
const total = packets.length * 20 + 300;

describe('JitterBuffer', () => {
  it('in-order packets come out exactly as decoded, starting one hop after the first arrives', () => {
    const { out, kinds, stats } = simulate(packets, steady, total);
    const first = kinds.indexOf('audio');
    assert.equal(first, 1, 'first packet arrives at 1 ms, played at the 10 ms hop');
    const played = out.subarray(first * FRAME_SIZE, first * FRAME_SIZE + ref.length);
    assert.deepEqual(played, ref);
    assert.equal(stats.lost + stats.late + stats.recovered + stats.accelerated, 0);
  });

  it('reordered packets are put back in sequence: same audio, nothing lost or late', () => {
    // Every pair swapped on the wire, both within the same 20 ms.
    const arrival = packets.map((_, k) => Math.floor(k / 2) * 40 + 1 + (k % 2 === 0 ? 2 : 0));
    const { out, kinds, stats } = simulate(packets, arrival, total);
    const first = kinds.indexOf('audio');
    const played = out.subarray(first * FRAME_SIZE, first * FRAME_SIZE + ref.length);
    assert.deepEqual(played, ref);
    assert.equal(stats.lost, 0);
    assert.equal(stats.late, 0);
  });

  it('10 % random loss: every hop yields a frame, single losses come back from FEC, audio still correlates', () => {
    const rnd = prng(7);
    const arrival = steady.map((t, k) => (k > 0 && rnd() < 0.1 ? NaN : t));
    const dropped = arrival.filter(Number.isNaN).length;
    const { out, stats } = simulate(packets, arrival, total);
    assert.equal(stats.lost + stats.recovered, dropped, 'every missing packet is accounted for');
    assert.ok(stats.recovered > 0, 'in-band FEC used');
    const a = align(ref, out, 0, 4800);
    assert.ok(a.corr > 0.9, `correlation ${a.corr.toFixed(3)} with the clean decode`);
  });

  it('up to 40 ms of jitter: no hop waits, buffering stays bounded, audio correlates', () => {
    const rnd = prng(11);
    const arrival = steady.map((t) => t + rnd() * 40);
    const { out, stats, maxLevelMs } = simulate(packets, arrival, total);
    assert.ok(maxLevelMs <= 100, `buffer level peaked at ${maxLevelMs} ms`);
    assert.ok(stats.late <= packets.length * 0.1, `${stats.late} late packets`);
    // Expanding and dropping frames moves the timeline: compare 100 ms windows, each aligned.
    const first = align(ref.subarray(0, 24_000), out.subarray(0, 48_000), 0, 24_000).lag;
    const corr = windowedCorrelations(ref, out, 4800, first, 2400);
    assert.ok(corr.length > 30);
    assert.ok(median(corr) > 0.9, `median windowed correlation ${median(corr).toFixed(3)}`);
  });

  it('a delay spike that is over gives its latency back (frames dropped, crossfaded)', () => {
    // The network freezes for 150 ms, then delivers everything it held in a burst.
    const arrival = steady.map((t, k) => (k >= 50 && k <= 57 ? 1151 : t));
    const { stats, jb } = simulate(packets, arrival, total - 300);
    assert.ok(stats.expanded >= 10, 'the freeze was concealed');
    assert.equal(stats.late + stats.lost, 0, 'nothing the burst delivered was thrown away');
    assert.ok(stats.accelerated >= 10, 'and the extra buffering removed afterwards');
    assert.ok(jb.toJSON().levelMs <= 40, `level at the end ${jb.toJSON().levelMs} ms`);
  });

  it('a sender that goes quiet gets concealment, then silence, then plays again when it resumes', () => {
    const arrival = steady.map((t, k) => (k >= 50 && k < 100 ? NaN : k >= 100 ? t + 0 : t));
    // Packets 50..99 never come; 100.. resume at their normal times.
    const { out, kinds } = simulate(packets, arrival, total);
    const silentHops = kinds.filter((k) => k === 'silence').length;
    assert.ok(silentHops > 30, 'silence once concealment gave up');
    const resumeHop = kinds.indexOf('audio', kinds.indexOf('silence', 10));
    // Packet 100 arrives at 2001 ms: played at the next hop, not after a second of concealment.
    assert.equal(resumeHop, 201);
    const tail = out.subarray(resumeHop * FRAME_SIZE);
    assert.ok(correlationAt(ref.subarray(100 * 960), tail, 0, 0, 48_000) > 0.9);
  });

  it('sequence numbers wrapping past 65535 are continuous', () => {
    const wrapped = encode(signal.subarray(0, 48_000), 65_530);
    const r = reference(wrapped);
    const { out, kinds, stats } = simulate(wrapped, wrapped.map((_, k) => k * 20 + 1), wrapped.length * 20 + 100);
    const first = kinds.indexOf('audio');
    assert.deepEqual(out.subarray(first * FRAME_SIZE, first * FRAME_SIZE + r.length), r);
    assert.equal(stats.resyncs + stats.late + stats.lost, 0);
  });

  it('duplicates are ignored and counted', () => {
    const dup = [...packets.slice(0, 20), ...packets.slice(0, 20)];
    const arrival = [...steady.slice(0, 20), ...steady.slice(0, 20).map((t) => t + 2)];
    const { stats } = simulate(dup, arrival, 500);
    assert.equal(stats.received, 20);
    assert.ok(stats.duplicates + stats.late === 20);
  });

  it('reports its counters and level as JSON', () => {
    const { stats } = simulate(packets.slice(0, 10), steady.slice(0, 10), 100);
    assert.deepEqual(Object.keys(stats).sort(), [
      'accelerated', 'decodeErrors', 'duplicates', 'expanded', 'jitterMs', 'late', 'levelMs', 'lost', 'received', 'recovered', 'resyncs',
    ]);
  });
});
