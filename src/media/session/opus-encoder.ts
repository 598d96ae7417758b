// The one Opus encoder of a session: denoised 48 kHz mono frames in, packets
// out, encoded ONCE and shared by every listener. Mono packets inside an
// opus/48000/2 SDP are normal (RFC 7587 §7): the packet's TOC says "mono"
// and browsers play it on both channels.
// The WebAssembly build, not the native binding: the native addon crashes the
// process (SIGSEGV) when a worker thread that loaded it exits, and media
// workers must be able to stop. Same libopus, ~2.5x the encode cost, still
// ~1 % of a core per stream (one encode per stream, shared by all listeners).
// @ts-expect-error the package ships no types for its wasm entry (typed below).
import { Encoder as WasmEncoder } from '@evan/opus/wasm/index.mjs';

interface Encoder {
  encode(pcm: Int16Array): Uint8Array;
  /** Without a value: the GET form of the request. */
  ctl(request: number, value?: number): number;
  drop(): void;
}
const Encoder = WasmEncoder as new (opts: { channels: number; sample_rate: number; application: string }) => Encoder;
/** opus_defines.h: OPUS_SET_BITRATE_REQUEST. */
const OPUS_SET_BITRATE_REQUEST = 4002;
/** opus_defines.h: OPUS_SET_COMPLEXITY_REQUEST. */
const OPUS_SET_COMPLEXITY_REQUEST = 4010;
/** opus_defines.h: OPUS_GET_LOOKAHEAD_REQUEST. */
const OPUS_GET_LOOKAHEAD_REQUEST = 4027;
export const OPUS_COMPLEXITY = 4;

/** Fullband CELT at this rate is transparent for (denoised) speech. */
export const OPUS_BITRATE = 48_000;

export class OpusEncoder {
  private encoder: Encoder | null;
  private readonly pcm = new Int16Array(960);

  constructor() {
    // 'audio' lets libopus pick CELT: ~40 µs per 20 ms packet here against ~200 µs for the
    // SILK/hybrid modes 'voip' selects (the difference between ~100 streams per core and ~40),
    // and it keeps the waveform (voip's high-pass and noise shaping do not). The price is no
    // in-band FEC towards listeners; their browsers conceal a lost packet with PLC.
    const encoder = new Encoder({ channels: 1, sample_rate: 48_000, application: 'audio' });
    encoder.ctl(OPUS_SET_BITRATE_REQUEST, OPUS_BITRATE);
    // Complexity 5 and up adds CELT's pitch pre-filter search, which doubles the WASM encode
    // cost (noisy speech here: ~95 µs per packet at 5, ~50 at 4; complexity 10, libopus's
    // default, ~4x complexity 5). Complexity 4 at 48 kbit/s decodes closer to the input than
    // complexity 5 at 40 kbit/s (clean speech, aligned waveform SNR 14.9 vs 14.1 dB) for half
    // the CPU; the extra 8 kbit/s (1 kB/s per listener) is cheap next to a core per ~100 streams.
    encoder.ctl(OPUS_SET_COMPLEXITY_REQUEST, OPUS_COMPLEXITY);
    this.encoder = encoder;
    this.lookahead = encoder.ctl(OPUS_GET_LOOKAHEAD_REQUEST);
  }

  /**
   * Samples of delay the encoder adds (312 for CELT at 48 kHz: 2.5 ms overlap + 4 ms delay
   * compensation): an Ogg Opus file's pre-skip (RFC 7845 §4.2).
   */
  readonly lookahead: number;

  /**
   * Encodes `samples` (480 = 10 ms or 960 = 20 ms) from frame. Returns a fresh Buffer:
   * listeners' senders keep it for retransmission, so it must not be reused.
   */
  encode(frame: Float32Array, samples: number): Buffer {
    if (this.encoder === null) throw new Error('encoder is closed');
    const pcm = this.pcm;
    for (let i = 0; i < samples; i++) {
      const s = frame[i]!;
      pcm[i] = s >= 1 ? 32767 : s <= -1 ? -32768 : s === s ? Math.round(s * 32767) : 0;
    }
    const out = this.encoder.encode(samples === pcm.length ? pcm : pcm.subarray(0, samples));
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  close(): void {
    this.encoder?.drop();
    this.encoder = null;
  }
}
