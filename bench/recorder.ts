// Recorder costs and sizes on this machine, for both formats (issue 19), on the
// shared speech looped to 10 minutes:
//   - bytes per minute of WAV and of Ogg Opus;
//   - CPU per stream-hop (10 ms) added by the recorder on the media hot path: WAV (convert +
//     buffer + a write every 0.5 s), Opus from the live encoder's packets (peak + packet copy +
//     a page every 0.5 s), and Opus with an encode of its own (what a session without listeners,
//     or the raw companion, pays);
//   - memory over an hour, repair of a 10-minute file after a crash, peaks, WAV download decode;
//   - replay quality of the live encoder's packets (48 kbit/s CELT, complexity 4, 20 and 10 ms)
//     against a second encoder tuned for replay (complexity 10): aligned waveform SNR and
//     DNSMOS P.835 on the clean shared speech and on RNNoise-denoised noisy speech.
// Prints numbers; writes bench/results/recorder.json.
//   npx tsx bench/recorder.ts
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
// @ts-expect-error the package ships no types for its wasm entry
import { Encoder as WasmEncoder } from '@evan/opus/wasm/index.mjs';
import { PROJECT_ROOT } from '../src/config.js';
import { denoiseSignal } from '../src/denoise/denoise-signal.js';
import { loadRnnoiseRuntime } from '../src/denoise/rnnoise.js';
import { decodeOggOpus, readOggOpusInfo } from '../src/media/recording/ogg-opus-file.js';
import { OggOpusRecorder } from '../src/media/recording/ogg-opus-recorder.js';
import { repairOggOpus } from '../src/media/recording/ogg-opus-repair.js';
import { opusPeaks } from '../src/media/recording/opus-peaks.js';
import { OpusDecoder } from '../src/media/session/opus-decoder.js';
import { OPUS_BITRATE, OPUS_COMPLEXITY, OpusEncoder } from '../src/media/session/opus-encoder.js';
import { WavRecorder } from '../src/media/recording/recorder.js';
import { wavPeaks } from '../src/media/recording/wav-peaks.js';
import { repairWav } from '../src/media/recording/wav-repair.js';
import { loadSharedAudio, sharedDir } from '../test/support/dfn-audio.js';
import { Dnsmos } from '../test/support/dnsmos.js';

const RATE = 48_000;
const HOP = 480;
const MINUTES = 10;
const HOPS = MINUTES * 60 * 100;
const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-bench-rec-'));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
function stats(us: number[]): { mean: number; p50: number; p99: number; max: number } {
  const s = [...us].sort((a, b) => a - b);
  return { mean: us.reduce((a, b) => a + b, 0) / us.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s.at(-1)! };
}
const r1 = (x: number) => Number(x.toFixed(1));
const r2 = (x: number) => Number(x.toFixed(2));
const r3 = (x: number) => Number(x.toFixed(3));

interface RawEncoder {
  encode(pcm: Int16Array): Uint8Array;
  ctl(request: number, value?: number): number;
  drop(): void;
}
function encoderWith(bitrate: number, complexity: number): RawEncoder {
  const e = new (WasmEncoder as new (o: object) => RawEncoder)({ channels: 1, sample_rate: RATE, application: 'audio' });
  e.ctl(4002, bitrate);
  e.ctl(4010, complexity);
  return e;
}

/** Encodes `x` in packets of `size` samples with `enc`, decodes, drops the lookahead: aligned with x. Also µs per encode. */
function roundTrip(x: Float32Array, enc: RawEncoder, size: number): { y: Float32Array; encodeUs: number; bytes: number } {
  const lookahead = enc.ctl(4027);
  const dec = new OpusDecoder();
  const pcm = new Int16Array(size);
  const out = new Float32Array(x.length + lookahead + size);
  const tmp = new Float32Array(5760);
  let at = 0;
  let encodeMs = 0;
  let packets = 0;
  let bytes = 0;
  for (let i = 0; i < x.length + lookahead; i += size) {
    for (let j = 0; j < size; j++) {
      const s = x[i + j] ?? 0;
      pcm[j] = Math.max(-32768, Math.min(32767, Math.round(s * 32767)));
    }
    const t = performance.now();
    const p = enc.encode(pcm);
    encodeMs += performance.now() - t;
    packets++;
    bytes += p.length;
    const n = dec.decode(p, tmp, 0);
    out.set(tmp.subarray(0, n), at);
    at += n;
  }
  dec.close();
  return { y: out.subarray(lookahead, lookahead + x.length), encodeUs: (encodeMs * 1000) / packets, bytes };
}

function snrDb(x: Float32Array, y: Float32Array): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i]! ** 2;
    e += (x[i]! - y[i]!) ** 2;
  }
  return 10 * Math.log10(s / e);
}

async function main(): Promise<void> {
  const speech = await loadSharedAudio('clean_freesound_33711.wav');
  const looped = (k: number, out: Float32Array) => {
    const base = (k * HOP) % (speech.length - HOP);
    out.set(speech.subarray(base, base + HOP));
  };
  const frame = new Float32Array(HOP);
  const out: Record<string, unknown> = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg_start: os.loadavg().map(r2) } };

  // 1. WAV: per-hop cost and size over 10 minutes of speech.
  const wavFile = path.join(dir, 'ten.wav');
  const wav = WavRecorder.open(wavFile, RATE);
  const wavUs: number[] = new Array(HOPS);
  for (let k = 0; k < HOPS; k++) {
    looped(k, frame);
    const t = performance.now();
    wav.write(frame);
    wavUs[k] = (performance.now() - t) * 1000;
  }
  const wavResult = wav.close();

  // 2. Opus from the live encoder's packets (20 ms: a session with no listener or > 32; 10 ms
  // packets for small audiences cost the recorder the same per byte). The encode happens
  // anyway for listeners, so it is outside the timed part; the recorder's share is timed.
  const liveEnc = new OpusEncoder();
  const packets: Buffer[] = [];
  const pending = new Float32Array(960);
  const encStart = performance.now();
  for (let k = 0; k < HOPS; k++) {
    looped(k, frame);
    pending.set(frame, (k % 2) * HOP);
    if (k % 2 === 1) packets.push(liveEnc.encode(pending, 960));
  }
  const liveEncodeUsPerHop = ((performance.now() - encStart) * 1000) / HOPS;
  const opusFile = path.join(dir, 'ten.opus');
  const opus = OggOpusRecorder.open(opusFile, { sharedEncoder: liveEnc });
  const opusUs: number[] = new Array(HOPS);
  for (let k = 0; k < HOPS; k++) {
    looped(k, frame);
    const t = performance.now();
    opus.write(frame);
    if (k % 2 === 1) opus.writePacket(packets[(k - 1) / 2]!, 960);
    opusUs[k] = (performance.now() - t) * 1000;
  }
  // What a SIGKILL leaves: the pages so far, then a torn page.
  const crashed = path.join(dir, 'crashed.opus');
  copyFileSync(opusFile, crashed);
  const opusResult = opus.close();
  liveEnc.close();

  // 3. Opus with its own encoder (a session nobody listens to pays this encode now; before
  // issue 19 it encoded nothing without listeners; the raw companion always pays it).
  const ownFile = path.join(dir, 'own.opus');
  const own = OggOpusRecorder.open(ownFile, { peaks: false });
  const ownUs: number[] = new Array(HOPS / 5);
  for (let k = 0; k < HOPS / 5; k++) {
    looped(k, frame);
    const t = performance.now();
    own.write(frame);
    ownUs[k] = (performance.now() - t) * 1000;
  }
  own.close();

  const sWav = stats(wavUs);
  const sOpus = stats(opusUs);
  const sOwn = stats(ownUs);
  const mb = (bytes: number) => bytes / MINUTES / 1e6;
  out.bytes_per_minute = {
    wav: Math.round(wavResult.sizeBytes / MINUTES),
    opus: Math.round(opusResult.sizeBytes / MINUTES),
    opus_peaks_side_file: Math.round(statSync(opusFile.replace(/\.opus$/, '.peaks')).size / MINUTES),
    ratio_wav_to_opus: r1(wavResult.sizeBytes / opusResult.sizeBytes),
  };
  out.cpu_per_stream_hop_us = {
    wav_write: { mean: r2(sWav.mean), p50: r2(sWav.p50), p99: r2(sWav.p99), max: r1(sWav.max) },
    opus_from_live_packets: { mean: r2(sOpus.mean), p50: r2(sOpus.p50), p99: r2(sOpus.p99), max: r1(sOpus.max) },
    opus_own_encoder: { mean: r2(sOwn.mean), p50: r2(sOwn.p50), p99: r2(sOwn.p99), max: r1(sOwn.max) },
    live_encoder_per_hop_for_reference: r2(liveEncodeUsPerHop),
  };
  console.log(`bytes per minute of speech: WAV ${mb(wavResult.sizeBytes).toFixed(3)} MB, Ogg Opus ${mb(opusResult.sizeBytes).toFixed(3)} MB (${(wavResult.sizeBytes / opusResult.sizeBytes).toFixed(1)}x smaller) + peaks ${(out.bytes_per_minute as { opus_peaks_side_file: number }).opus_peaks_side_file} B`);
  console.log(`recorder CPU per stream-hop (µs, mean / p50 / p99 / max): WAV ${sWav.mean.toFixed(2)} / ${sWav.p50.toFixed(2)} / ${sWav.p99.toFixed(2)} / ${sWav.max.toFixed(0)}`);
  console.log(`                                   Opus from live packets ${sOpus.mean.toFixed(2)} / ${sOpus.p50.toFixed(2)} / ${sOpus.p99.toFixed(2)} / ${sOpus.max.toFixed(0)}`);
  console.log(`                                   Opus with its own encoder ${sOwn.mean.toFixed(2)} / ${sOwn.p50.toFixed(2)} / ${sOwn.p99.toFixed(2)} / ${sOwn.max.toFixed(0)}  (live encoder alone: ${liveEncodeUsPerHop.toFixed(1)} µs per hop)`);

  // 4. Memory over one hour of Opus from packets (the hot path must not grow).
  const hourEnc = new OpusEncoder();
  const hour = OggOpusRecorder.open(path.join(dir, 'hour.opus'), { sharedEncoder: hourEnc });
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  for (let k = 0; k < 360_000; k++) {
    looped(k % HOPS, frame);
    hour.write(frame);
    if (k % 2 === 1) hour.writePacket(packets[((k - 1) / 2) % packets.length]!, 960);
  }
  const hourRssMb = (process.memoryUsage().rss - rss0) / 1048576;
  const hourResult = hour.close();
  hourEnc.close();

  // 5. After a crash: repair of 10 minutes (torn page appended), peaks, WAV download decode.
  const fh = await open(crashed, 'a');
  await fh.write(Buffer.from('OggS\0\0partial page'));
  await fh.close();
  let t = performance.now();
  const repaired = repairOggOpus(crashed);
  const repairMs = performance.now() - t;
  t = performance.now();
  await opusPeaks(opusFile, 1000);
  const opusPeaksMs = performance.now() - t;
  t = performance.now();
  const info = await readOggOpusInfo(opusFile);
  let decoded = 0;
  for await (const c of decodeOggOpus(opusFile, info)) decoded += c.length;
  const decodeMs = performance.now() - t;
  // The WAV side, as before.
  const sizes = Buffer.alloc(4);
  const wfh = await open(wavFile, 'r+');
  sizes.writeUInt32LE(36, 0);
  await wfh.write(sizes, 0, 4, 4);
  await wfh.close();
  t = performance.now();
  repairWav(wavFile);
  const wavRepairMs = performance.now() - t;
  t = performance.now();
  await wavPeaks(wavFile, 1000);
  const wavPeaksMs = performance.now() - t;
  out.ten_minutes = {
    wav: { size_bytes: wavResult.sizeBytes, repair_ms: r1(wavRepairMs), peaks_ms: r1(wavPeaksMs) },
    opus: {
      size_bytes: opusResult.sizeBytes,
      duration_ms: opusResult.durationMs,
      repair_after_crash_ms: r1(repairMs),
      repaired_duration_ms: repaired.durationMs,
      peaks_from_side_file_ms: r1(opusPeaksMs),
      wav_download_decode_ms: r1(decodeMs),
      wav_download_bytes: decoded + 44,
    },
  };
  out.one_hour_opus = { rss_growth_mb: r1(hourRssMb), duration_ms: hourResult.durationMs, size_bytes: hourResult.sizeBytes };
  console.log(`one hour of Opus from packets: RSS growth ${hourRssMb.toFixed(1)} MB, ${(hourResult.sizeBytes / 1e6).toFixed(1)} MB file`);
  console.log(`10 minutes: repair after a crash WAV ${wavRepairMs.toFixed(1)} ms, Opus ${repairMs.toFixed(1)} ms; peaks WAV ${wavPeaksMs.toFixed(1)} ms, Opus (side file) ${opusPeaksMs.toFixed(1)} ms; WAV download decode ${decodeMs.toFixed(0)} ms (${((MINUTES * 60_000) / decodeMs).toFixed(0)}x real time)`);

  // 6. Replay quality: the live encoder's packets against a replay-tuned encoder.
  const dnsmos = await Dnsmos.load(path.join(sharedDir(), 'models', 'dnsmos'));
  const rnnoise = await loadRnnoiseRuntime();
  const noisy = await loadSharedAudio('noisy_snr0.wav');
  const materials: Array<[string, Float32Array]> = [
    ['clean speech', speech],
    ['noisy_snr0 denoised by rnnoise', denoiseSignal(rnnoise, noisy)],
  ];
  await rnnoise.close();
  const configs: Array<[string, number, number, number]> = [
    ['live: 48 kbit/s, complexity 4, 20 ms', OPUS_BITRATE, OPUS_COMPLEXITY, 960],
    ['live: 48 kbit/s, complexity 4, 10 ms', OPUS_BITRATE, OPUS_COMPLEXITY, 480],
    ['replay: 48 kbit/s, complexity 10, 20 ms', 48_000, 10, 960],
    ['replay: 64 kbit/s, complexity 10, 20 ms', 64_000, 10, 960],
  ];
  const quality: Record<string, unknown> = {};
  for (const [mName, x] of materials) {
    const ref = await dnsmos.score48k(x);
    const rows: Record<string, unknown> = { original: { sig: r3(ref.sig), bak: r3(ref.bak), ovrl: r3(ref.ovrl) } };
    console.log(`${mName}: original DNSMOS SIG ${ref.sig.toFixed(3)} BAK ${ref.bak.toFixed(3)} OVRL ${ref.ovrl.toFixed(3)}`);
    for (const [cName, bitrate, complexity, size] of configs) {
      const enc = encoderWith(bitrate, complexity);
      const { y, encodeUs, bytes } = roundTrip(x, enc, size);
      enc.drop();
      const mos = await dnsmos.score48k(y);
      const snr = snrDb(x, y);
      rows[cName] = {
        waveform_snr_db: r2(snr),
        sig: r3(mos.sig),
        bak: r3(mos.bak),
        ovrl: r3(mos.ovrl),
        ovrl_change: r3(mos.ovrl - ref.ovrl),
        encode_us_per_hop: r1((encodeUs * HOP) / size),
        bytes_per_minute: Math.round((bytes / (x.length / RATE)) * 60),
      };
      console.log(`  ${cName.padEnd(40)} SNR ${snr.toFixed(2)} dB  DNSMOS SIG ${mos.sig.toFixed(3)} BAK ${mos.bak.toFixed(3)} OVRL ${mos.ovrl.toFixed(3)} (${(mos.ovrl - ref.ovrl >= 0 ? '+' : '') + (mos.ovrl - ref.ovrl).toFixed(3)})  encode ${((encodeUs * HOP) / size).toFixed(1)} µs/hop`);
    }
    quality[mName] = rows;
  }
  await dnsmos.close();
  out.replay_quality = quality;
  out.machine = { ...(out.machine as object), loadavg_end: os.loadavg().map(r2) };
  writeFileSync(path.join(PROJECT_ROOT, 'bench', 'results', 'recorder.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; wrote bench/results/recorder.json`);
}

main()
  .finally(() => rmSync(dir, { recursive: true, force: true }))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
