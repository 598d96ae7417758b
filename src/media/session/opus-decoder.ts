// Opus decoding for the broadcaster's stream, with packet-loss concealment and
// in-band FEC. @evan/opus's native binding has neither (an empty packet is a
// BadArgument), so this drives libopus from the WebAssembly build shipped in
// the same package, where opus_decode takes the FEC flag and a NULL packet
// means "conceal". Output is 48 kHz mono: libopus downmixes stereo packets
// itself when the decoder is opened with one channel.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Largest Opus frame: 120 ms at 48 kHz. */
export const MAX_OPUS_FRAME = 5760;
const MAX_PACKET_BYTES = 1500;
const OPUS_OK = 0;

interface OpusWasmExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(ptr: number): void;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, rate: number, channels: number): number;
  opus_decode(st: number, data: number, len: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_decoder_ctl_set(st: number, cmd: number, arg: number): number;
  opus_strerror(code: number): number;
}

/** One libopus instance per worker thread; decoders share its memory. */
class OpusWasm {
  readonly exports: OpusWasmExports;
  /** Scratch areas shared by every decoder of this thread (decoding is synchronous). */
  readonly packetPtr: number;
  readonly pcmPtr: number;
  private heap8: Uint8Array;
  private heap16: Int16Array;

  constructor() {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@evan/opus/wasm/index.js'));
    const simd = WebAssembly.validate(
      Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11),
    );
    const module = new WebAssembly.Module(readFileSync(path.join(dir, simd ? 'simd.wasm' : 'opus.wasm')));
    const noop = (): number => 0;
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: { fd_seek: noop, fd_write: noop, fd_close: noop, proc_exit: noop },
      env: { emscripten_notify_memory_growth: () => this.refreshViews() },
    });
    this.exports = instance.exports as unknown as OpusWasmExports;
    this.packetPtr = this.exports.malloc(MAX_PACKET_BYTES);
    this.pcmPtr = this.exports.malloc(MAX_OPUS_FRAME * 2);
    this.heap8 = new Uint8Array(this.exports.memory.buffer);
    this.heap16 = new Int16Array(this.exports.memory.buffer);
  }

  private refreshViews(): void {
    this.heap8 = new Uint8Array(this.exports.memory.buffer);
    this.heap16 = new Int16Array(this.exports.memory.buffer);
  }

  get u8(): Uint8Array {
    if (this.heap8.byteLength === 0) this.refreshViews();
    return this.heap8;
  }

  get i16(): Int16Array {
    if (this.heap16.byteLength === 0) this.refreshViews();
    return this.heap16;
  }

  errorText(code: number): string {
    const u8 = this.u8;
    let s = '';
    for (let p = this.exports.opus_strerror(code); p < u8.length && u8[p] !== 0; p++) s += String.fromCharCode(u8[p]!);
    return s;
  }
}

let shared: OpusWasm | null = null;
function opusWasm(): OpusWasm {
  shared ??= new OpusWasm();
  return shared;
}

export class OpusDecodeError extends Error {
  override name = 'OpusDecodeError';
}

export class OpusDecoder {
  private readonly lib: OpusWasm;
  private state: number;

  constructor() {
    this.lib = opusWasm();
    const { exports } = this.lib;
    this.state = exports.malloc(exports.opus_decoder_get_size(1));
    const rc = exports.opus_decoder_init(this.state, 48_000, 1);
    if (rc !== OPUS_OK) {
      exports.free(this.state);
      this.state = 0;
      throw new OpusDecodeError(`opus_decoder_init: ${this.lib.errorText(rc)}`);
    }
  }

  /**
   * Decodes one packet into out (float mono, starting at offset); returns the sample count.
   * Throws OpusDecodeError on a corrupt packet (the caller conceals instead).
   */
  decode(packet: Uint8Array, out: Float32Array, offset: number): number {
    return this.run(packet, 0, MAX_OPUS_FRAME, out, offset);
  }

  /**
   * Recovers the packet BEFORE `next` from next's in-band FEC data (LBRR); falls back to
   * plain concealment inside libopus when next carries none. frameSize = the lost duration.
   */
  decodeFec(next: Uint8Array, frameSize: number, out: Float32Array, offset: number): number {
    return this.run(next, 1, frameSize, out, offset);
  }

  /** Packet-loss concealment for frameSize samples (a multiple of 2.5 ms). */
  conceal(frameSize: number, out: Float32Array, offset: number): number {
    return this.run(null, 0, frameSize, out, offset);
  }

  private run(packet: Uint8Array | null, fec: number, frameSize: number, out: Float32Array, offset: number): number {
    if (this.state === 0) throw new OpusDecodeError('decoder is closed');
    const { exports, packetPtr, pcmPtr } = this.lib;
    let len = 0;
    if (packet !== null) {
      if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) {
        throw new OpusDecodeError(`Opus packet of ${packet.length} bytes`);
      }
      this.lib.u8.set(packet, packetPtr);
      len = packet.length;
    }
    const room = Math.min(frameSize, out.length - offset);
    const n = exports.opus_decode(this.state, packet === null ? 0 : packetPtr, len, pcmPtr, room, fec);
    if (n < 0) throw new OpusDecodeError(`opus_decode: ${this.lib.errorText(n)}`);
    const pcm = this.lib.i16;
    const base = pcmPtr >> 1;
    for (let i = 0; i < n; i++) out[offset + i] = pcm[base + i]! / 32768;
    return n;
  }

  close(): void {
    if (this.state === 0) return;
    this.lib.exports.free(this.state);
    this.state = 0;
  }
}
