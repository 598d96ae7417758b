// The two header packets of an Ogg Opus stream (RFC 7845 §5): the
// identification header "OpusHead" (channel count, pre-skip, input rate,
// gain, mapping family 0 = mono/stereo) and the comment header "OpusTags"
// (vendor string, user comments).

export const OPUS_HEAD_BYTES = 19;

export interface OpusHead {
  channels: number;
  /** Samples (48 kHz) the decoder discards at the start: the encoder's lookahead. */
  preSkip: number;
  /** Sample rate of the audio before encoding (informational). */
  inputSampleRate: number;
  /** Q7.8 dB. */
  outputGain: number;
  mappingFamily: number;
}

export class OpusHeadError extends Error {
  override name = 'OpusHeadError';
}

export function serializeOpusHead(h: Pick<OpusHead, 'channels' | 'preSkip' | 'inputSampleRate'>): Buffer {
  const b = Buffer.alloc(OPUS_HEAD_BYTES);
  b.write('OpusHead', 0, 'latin1');
  b[8] = 1; // version
  b[9] = h.channels;
  b.writeUInt16LE(h.preSkip, 10);
  b.writeUInt32LE(h.inputSampleRate, 12);
  b.writeInt16LE(0, 16);
  b[18] = 0; // mapping family 0: mono or stereo, no table
  return b;
}

export function parseOpusHead(packet: Uint8Array): OpusHead {
  const b = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  if (b.length < OPUS_HEAD_BYTES || b.toString('latin1', 0, 8) !== 'OpusHead') throw new OpusHeadError('not an OpusHead packet');
  // RFC 7845 §5.1: versions 0–15 are compatible with this layout.
  if (b[8]! > 15) throw new OpusHeadError(`unsupported OpusHead version ${b[8]}`);
  return {
    channels: b[9]!,
    preSkip: b.readUInt16LE(10),
    inputSampleRate: b.readUInt32LE(12),
    outputGain: b.readInt16LE(16),
    mappingFamily: b[18]!,
  };
}

export function serializeOpusTags(vendor: string, comments: string[] = []): Buffer {
  const parts = [Buffer.from('OpusTags', 'latin1'), u32(Buffer.byteLength(vendor)), Buffer.from(vendor), u32(comments.length)];
  for (const c of comments) parts.push(u32(Buffer.byteLength(c)), Buffer.from(c));
  return Buffer.concat(parts);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}
