// "Download as WAV" for Ogg Opus recordings (people who edit audio): the file
// decoded on the fly into a 16-bit 48 kHz mono WAV stream. The length is known
// before the first byte (the last granule gives the exact sample count), so the
// response has a Content-Length and a final header; memory stays flat (one
// second of PCM at a time, pulled as the client reads).
import { Readable } from 'node:stream';
import { decodeOggOpus, readOggOpusInfo } from './ogg-opus-file.js';
import { serializeWavHeader, WAV_HEADER_BYTES, WAV_MAX_DATA_BYTES } from './wav.js';

export interface WavStream {
  sizeBytes: number;
  durationMs: number;
  stream: Readable;
}

export async function opusAsWav(filePath: string): Promise<WavStream> {
  const info = await readOggOpusInfo(filePath);
  // RIFF sizes are 32-bit (~12.4 h at 48 kHz mono): longer recordings get their first 12.4 h.
  const samples = Math.min(info.samples, Math.floor(WAV_MAX_DATA_BYTES / 2));
  const header = serializeWavHeader({ sampleRate: 48_000, channels: 1, bitsPerSample: 16 }, samples * 2);
  async function* body(): AsyncGenerator<Buffer> {
    yield header;
    yield* decodeOggOpus(filePath, { ...info, samples });
  }
  return { sizeBytes: WAV_HEADER_BYTES + samples * 2, durationMs: info.durationMs, stream: Readable.from(body(), { objectMode: false, highWaterMark: 1 }) };
}
