// Crash repair for Ogg Opus recordings: the recorder appends whole pages, so a
// process killed mid-stream leaves a run of good pages, perhaps one torn page
// after them, and no end-of-stream flag. Repair keeps every page whose header,
// length and CRC are right (in one sequential pass, memory flat), cuts the
// file after the last of them and sets end-of-stream on it (CRC recomputed).
// A file whose two header pages never made it to disk becomes an empty stream.
// Files that already end with a whole end-of-stream page are left byte for byte.
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { checkOggPage, lacePacket, OGG_BOS, OGG_EOS, OGG_HEADER_BYTES, OGG_MAX_PAGE_BYTES, OGG_MAX_SEGMENTS, oggCrc, parseOggPageHeader, writeOggPage } from './ogg.js';
import { OPUS_HEAD_BYTES, parseOpusHead, serializeOpusHead, serializeOpusTags } from './opus-head.js';

export const OPUS_RATE = 48_000;
/** Pre-skip for a stream rebuilt from nothing (libopus CELT's lookahead at 48 kHz). */
const DEFAULT_PRE_SKIP = 312;

export class OggOpusFormatError extends Error {
  override name = 'OggOpusFormatError';
}

export interface OggOpusRepairResult {
  sampleRate: number;
  preSkip: number;
  /** The last page's granule position. */
  granule: number;
  /** Samples a player outputs: granule − pre-skip. */
  samples: number;
  durationMs: number;
  /** File size after repair. */
  sizeBytes: number;
  changed: boolean;
  /** Bytes cut off the end (a torn page, trailing garbage). */
  truncatedBytes: number;
}

/** Makes `filePath` a complete Ogg Opus stream in place. Throws OggOpusFormatError for files that are not ours to fix. */
export function repairOggOpus(filePath: string): OggOpusRepairResult {
  const fd = openSync(filePath, 'r+');
  try {
    return repairOggOpusFd(fd, filePath);
  } finally {
    closeSync(fd);
  }
}

interface Scan {
  serial: number;
  preSkip: number;
  /** End of the last whole, valid page. */
  validEnd: number;
  lastPageAt: number;
  lastPageLength: number;
  lastFlags: number;
  granule: number;
  pages: number;
}

export function repairOggOpusFd(fd: number, filePath: string): OggOpusRepairResult {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(OGG_MAX_PAGE_BYTES);
  const scan = scanPages(fd, size, buf, filePath);
  if (scan === null) {
    // Killed before both header pages were on disk: an empty recording.
    const empty = emptyStream(Math.floor(Math.random() * 0x1_0000_0000), DEFAULT_PRE_SKIP);
    ftruncateSync(fd, 0);
    writeFully(fd, empty, 0);
    fsyncSync(fd);
    return result(DEFAULT_PRE_SKIP, 0, empty.length, true, size > empty.length ? size - empty.length : 0);
  }
  let changed = false;
  if (scan.validEnd !== size) {
    ftruncateSync(fd, scan.validEnd);
    changed = true;
  }
  if ((scan.lastFlags & OGG_EOS) === 0) {
    const page = buf.subarray(0, scan.lastPageLength);
    readFully(fd, page, scan.lastPageAt);
    page[5] = page[5]! | OGG_EOS;
    page.writeUInt32LE(0, 22);
    page.writeUInt32LE(oggCrc(page, 0, page.length), 22);
    writeFully(fd, page.subarray(0, OGG_HEADER_BYTES), scan.lastPageAt);
    changed = true;
  }
  if (changed) fsyncSync(fd);
  return result(scan.preSkip, scan.granule, scan.validEnd, changed, size - scan.validEnd);
}

function result(preSkip: number, granule: number, sizeBytes: number, changed: boolean, truncatedBytes: number): OggOpusRepairResult {
  const samples = Math.max(0, granule - preSkip);
  return {
    sampleRate: OPUS_RATE,
    preSkip,
    granule,
    samples,
    durationMs: Math.round((samples / OPUS_RATE) * 1000),
    sizeBytes,
    changed,
    truncatedBytes,
  };
}

/** Walks the pages from the start; null when the two header pages are not both intact. */
function scanPages(fd: number, size: number, buf: Buffer, filePath: string): Scan | null {
  let at = 0;
  let scan: Scan | null = null;
  let pages = 0;
  while (at < size) {
    const probe = buf.subarray(0, Math.min(OGG_HEADER_BYTES + OGG_MAX_SEGMENTS, size - at));
    readFully(fd, probe, at);
    const h = parseOggPageHeader(probe, 0);
    if (h === null || h === 'corrupt') break;
    if (at + h.pageLength > size) break; // torn page
    const page = buf.subarray(0, h.pageLength);
    if (h.pageLength > probe.length) readFully(fd, page.subarray(probe.length), at + probe.length);
    if (!checkOggPage(page, 0, h.pageLength)) break;
    if (pages === 0) {
      if ((h.flags & OGG_BOS) === 0) throw new OggOpusFormatError(`${filePath}: first page is not a beginning-of-stream page`);
      const body = page.subarray(h.headerLength);
      if (body.length < OPUS_HEAD_BYTES || body.toString('latin1', 0, 8) !== 'OpusHead') {
        throw new OggOpusFormatError(`${filePath}: not an Ogg Opus stream`);
      }
      scan = { serial: h.serial, preSkip: parseOpusHead(body).preSkip, validEnd: 0, lastPageAt: 0, lastPageLength: 0, lastFlags: 0, granule: 0, pages: 0 };
    } else if (h.serial !== scan!.serial) {
      break; // another stream's page: not something our recorder writes
    }
    pages++;
    scan!.pages = pages;
    scan!.validEnd = at + h.pageLength;
    scan!.lastPageAt = at;
    scan!.lastPageLength = h.pageLength;
    scan!.lastFlags = h.flags;
    if (h.granule >= 0) scan!.granule = h.granule;
    at += h.pageLength;
  }
  if (scan === null) {
    if (size >= 4 && !looksLikeOgg(fd)) throw new OggOpusFormatError(`${filePath}: not an Ogg file`);
    return null;
  }
  return scan.pages >= 2 ? scan : null;
}

function looksLikeOgg(fd: number): boolean {
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, 0);
  return b.toString('latin1') === 'OggS';
}

/** The two header pages with end-of-stream on the second: a valid stream of no audio. */
function emptyStream(serial: number, preSkip: number): Buffer {
  const head = serializeOpusHead({ channels: 1, preSkip, inputSampleRate: OPUS_RATE });
  const tags = serializeOpusTags('hushcast (repaired)');
  const out = Buffer.alloc(2 * 27 + 2 + head.length + tags.length + 2);
  const laces = new Uint8Array(OGG_MAX_SEGMENTS);
  let at = writeOggPage(out, 0, { flags: OGG_BOS, granule: 0, serial, sequence: 0 }, laces, lacePacket(laces, 0, head.length), head, head.length);
  at += writeOggPage(out, at, { flags: OGG_EOS, granule: 0, serial, sequence: 1 }, laces, lacePacket(laces, 0, tags.length), tags, tags.length);
  return out.subarray(0, at);
}

function readFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new Error('file shrank while being repaired');
    done += n;
  }
}

function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}
