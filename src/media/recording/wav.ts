// RIFF/WAVE header codec for the recordings: 16-bit PCM, canonical 44-byte
// header (RIFF, "fmt " of 16 bytes, "data"), little-endian as the RIFF spec
// requires. The recorder writes it, repair and the HTTP layer read it.
// Parsing walks chunks, so files written by other tools (LIST, fact, …) parse too.

export const WAV_HEADER_BYTES = 44;
/** RIFF sizes are 32-bit: no WAV holds more than this many data bytes. */
export const WAV_MAX_DATA_BYTES = 0xffffffff - (WAV_HEADER_BYTES - 8);

const WAVE_FORMAT_PCM = 1;

export interface WavHeader {
  /** 1 = integer PCM. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Bytes per sample frame (all channels). */
  blockAlign: number;
  byteRate: number;
  /** The RIFF chunk size field as stored (file length - 8 when finalized). */
  riffSize: number;
  /** Byte offset of the first sample (just after the "data" chunk header). */
  dataOffset: number;
  /** The data chunk size field as stored (0 while a crashed recording was never finalized). */
  dataSize: number;
}

export class WavFormatError extends Error {
  override name = 'WavFormatError';
}

export interface PcmFormat {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
}

/** The canonical 44-byte header for `dataSize` bytes of PCM; writes into `target` when given (no allocation). */
export function serializeWavHeader(format: PcmFormat, dataSize: number, target?: Buffer): Buffer {
  const { sampleRate, channels, bitsPerSample } = format;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`bad sample rate ${sampleRate}`);
  if (!Number.isInteger(channels) || channels <= 0 || channels > 0xffff) throw new RangeError(`bad channel count ${channels}`);
  if (bitsPerSample % 8 !== 0 || bitsPerSample <= 0) throw new RangeError(`bad bits per sample ${bitsPerSample}`);
  const out = target ?? Buffer.alloc(WAV_HEADER_BYTES);
  if (out.length < WAV_HEADER_BYTES) throw new RangeError('header buffer shorter than 44 bytes');
  const blockAlign = channels * (bitsPerSample / 8);
  out.write('RIFF', 0, 'latin1');
  out.write('WAVE', 8, 'latin1');
  out.write('fmt ', 12, 'latin1');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * blockAlign, 28);
  out.writeUInt16LE(blockAlign, 32);
  out.writeUInt16LE(bitsPerSample, 34);
  out.write('data', 36, 'latin1');
  setWavDataSize(out, dataSize);
  return out;
}

/** Updates the two size fields of a canonical header in place (hot path: no allocation). */
export function setWavDataSize(header: Buffer, dataSize: number): void {
  if (!Number.isInteger(dataSize) || dataSize < 0 || dataSize > WAV_MAX_DATA_BYTES) {
    throw new RangeError(`WAV data size ${dataSize} out of range`);
  }
  header.writeUInt32LE(WAV_HEADER_BYTES - 8 + dataSize, 4);
  header.writeUInt32LE(dataSize, 40);
}

/**
 * Parses the header at the start of `bytes` (the first few KiB of a file are enough).
 * Accepts any chunk order before "data"; throws WavFormatError when it is not a RIFF/WAVE
 * file or the "fmt "/"data" chunks are missing.
 */
export function parseWavHeader(bytes: Uint8Array): WavHeader {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  const riffSize = buf.readUInt32LE(4);
  let fmt: Omit<WavHeader, 'riffSize' | 'dataOffset' | 'dataSize'> | null = null;
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new WavFormatError('"fmt " chunk truncated');
      fmt = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        blockAlign: buf.readUInt16LE(body + 12),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('"data" chunk before "fmt " chunk');
      return { ...fmt, riffSize, dataOffset: body, dataSize: size };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(fmt ? 'no "data" chunk in the header bytes' : 'no "fmt " chunk in the header bytes');
}
