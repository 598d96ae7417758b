// Reading Ogg Opus recordings on the control plane: the stream's facts (pre-skip,
// last granule, so the exact duration) from its first and last pages, and its
// packets / decoded PCM in one streaming pass with flat memory (for the WAV
// download and the waveform of a recording without a peaks file).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { checkOggPage, OGG_CONTINUED, OGG_MAX_PAGE_BYTES, parseOggPageHeader } from './ogg.js';
import { parseOpusHead } from './opus-head.js';
import { OggOpusFormatError } from './ogg-opus-repair.js';
import { MAX_OPUS_FRAME, OpusDecoder } from '../session/opus-decoder.js';

export const OPUS_OUTPUT_RATE = 48_000;

export interface OggOpusInfo {
  preSkip: number;
  /** Granule position of the last page. */
  granule: number;
  /** Samples a player outputs (granule − pre-skip). */
  samples: number;
  durationMs: number;
  sizeBytes: number;
}

/** Pre-skip from the first page, granule from the last whole page: no pass over the audio. */
export async function readOggOpusInfo(filePath: string): Promise<OggOpusInfo> {
  const fh = await open(filePath, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, OGG_MAX_PAGE_BYTES));
    await fh.read(head, 0, head.length, 0);
    const first = parseOggPageHeader(head, 0);
    if (first === null || first === 'corrupt' || !checkOggPage(head, 0, first.pageLength)) throw new OggOpusFormatError(`${filePath}: no Ogg page at the start`);
    const { preSkip } = parseOpusHead(head.subarray(first.headerLength, first.pageLength));
    // The last page starts within the last OGG_MAX_PAGE_BYTES; the first capture pattern there
    // that begins a valid run of pages up to the end is it (or its predecessor's).
    const tailStart = Math.max(0, size - 2 * OGG_MAX_PAGE_BYTES);
    const tail = Buffer.alloc(size - tailStart);
    await fh.read(tail, 0, tail.length, tailStart);
    let granule = 0;
    for (let at = 0; at + 27 <= tail.length; ) {
      const h = parseOggPageHeader(tail, at);
      if (h !== null && h !== 'corrupt' && checkOggPage(tail, at, h.pageLength)) {
        if (h.granule >= 0) granule = h.granule;
        at += h.pageLength;
        continue;
      }
      at = tail.indexOf('OggS', at + 1, 'latin1');
      if (at < 0) break;
    }
    const samples = Math.max(0, granule - preSkip);
    return { preSkip, granule, samples, durationMs: Math.round((samples / OPUS_OUTPUT_RATE) * 1000), sizeBytes: size };
  } finally {
    await fh.close();
  }
}

/**
 * Every audio packet of the stream in order (the two header packets skipped), from a file read in
 * chunks. Packets continued across pages are joined. Stops at the first damaged page.
 */
export async function* oggOpusPackets(filePath: string): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  let packetIndex = 0;
  let partial: Buffer[] = [];
  for await (const chunk of createReadStream(filePath, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const h = parseOggPageHeader(buf, at);
      if (h === 'corrupt') return;
      if (h === null || buf.length - at < h.pageLength) break;
      if (!checkOggPage(buf, at, h.pageLength)) return;
      if ((h.flags & OGG_CONTINUED) === 0) partial = [];
      let body = at + h.headerLength;
      let start = body;
      for (let s = 0; s < h.segments; s++) {
        const lace = buf[at + 27 + s]!;
        body += lace;
        if (lace < 255) {
          partial.push(buf.subarray(start, body));
          const packet = partial.length === 1 ? Buffer.from(partial[0]!) : Buffer.concat(partial);
          partial = [];
          if (packetIndex++ >= 2) yield packet;
          start = body;
        }
      }
      if (start < body) partial.push(Buffer.from(buf.subarray(start, body)));
      at += h.pageLength;
    }
    carry = Buffer.from(buf.subarray(at));
    buf = carry;
  }
}

/**
 * The recording as 16-bit little-endian mono PCM at 48 kHz, pre-skip discarded and the end
 * trimmed to `info.samples` exactly (RFC 7845 §4.2, §4.5), in chunks of at most ~1 s.
 */
export async function* decodeOggOpus(filePath: string, info: OggOpusInfo): AsyncGenerator<Buffer> {
  const decoder = new OpusDecoder();
  const pcm = new Float32Array(MAX_OPUS_FRAME);
  let skip = info.preSkip;
  let left = info.samples;
  const chunkSamples = 48_000;
  let out = Buffer.allocUnsafe(chunkSamples * 2);
  let used = 0;
  try {
    for await (const packet of oggOpusPackets(filePath)) {
      if (left <= 0) break;
      let n: number;
      try {
        n = decoder.decode(packet, pcm, 0);
      } catch {
        n = decoder.conceal(960, pcm, 0);
      }
      let i = Math.min(skip, n);
      skip -= i;
      for (; i < n && left > 0; i++, left--) {
        const s = pcm[i]!;
        out.writeInt16LE(s >= 1 ? 32767 : s <= -1 ? -32768 : Math.round(s * 32768) | 0, used);
        used += 2;
        if (used === out.length) {
          yield out;
          out = Buffer.allocUnsafe(chunkSamples * 2);
          used = 0;
        }
      }
    }
    // A stream shorter than its granule says (damaged): pad with silence so the length is as announced.
    while (left > 0) {
      out.writeInt16LE(0, used);
      used += 2;
      left--;
      if (used === out.length) {
        yield out;
        out = Buffer.allocUnsafe(chunkSamples * 2);
        used = 0;
      }
    }
    if (used > 0) yield out.subarray(0, used);
  } finally {
    decoder.close();
  }
}
