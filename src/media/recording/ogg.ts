// Ogg pages (RFC 3533): the container of the Opus recordings. A page is a
// 27-byte header, a segment ("lacing") table and the body; a packet is split
// into 255-byte segments and ends with a segment shorter than 255. Each page
// carries a CRC-32 (polynomial 0x04C11DB7, not reflected, initial value 0, over
// the whole page with the CRC field zeroed) and a 64-bit granule position.
// Writing and parsing here allocate nothing: callers bring the buffers.

export const OGG_HEADER_BYTES = 27;
export const OGG_MAX_SEGMENTS = 255;
/** Largest page: header, 255 lacing values, 255 × 255 body bytes. */
export const OGG_MAX_PAGE_BYTES = OGG_HEADER_BYTES + OGG_MAX_SEGMENTS + OGG_MAX_SEGMENTS * 255;

/** Header type flags (RFC 3533 §6). */
export const OGG_CONTINUED = 0x01;
export const OGG_BOS = 0x02;
export const OGG_EOS = 0x04;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 of bytes [start, end). */
export function oggCrc(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

export interface OggPageFields {
  flags: number;
  /** Granule position; -1 means "no packet ends on this page". Exact up to 2^53. */
  granule: number;
  serial: number;
  sequence: number;
}

/**
 * Writes one page into `out` at `at`: header, lacing values `laces[0..segments)`, then the body
 * `body[0..bodyLength)`. Returns the page length. The caller keeps lacing and body consistent.
 */
export function writeOggPage(
  out: Uint8Array,
  at: number,
  page: OggPageFields,
  laces: Uint8Array,
  segments: number,
  body: Uint8Array,
  bodyLength: number,
): number {
  if (segments > OGG_MAX_SEGMENTS) throw new RangeError(`${segments} segments on one Ogg page`);
  out[at] = 0x4f; // 'OggS'
  out[at + 1] = 0x67;
  out[at + 2] = 0x67;
  out[at + 3] = 0x53;
  out[at + 4] = 0; // stream structure version
  out[at + 5] = page.flags;
  if (page.granule === -1) {
    putU32(out, at + 6, 0xffffffff);
    putU32(out, at + 10, 0xffffffff);
  } else {
    putU32(out, at + 6, page.granule % 0x1_0000_0000);
    putU32(out, at + 10, Math.floor(page.granule / 0x1_0000_0000));
  }
  putU32(out, at + 14, page.serial >>> 0);
  putU32(out, at + 18, page.sequence >>> 0);
  putU32(out, at + 22, 0);
  out[at + 26] = segments;
  out.set(laces.subarray(0, segments), at + OGG_HEADER_BYTES);
  const bodyAt = at + OGG_HEADER_BYTES + segments;
  out.set(body.subarray(0, bodyLength), bodyAt);
  const end = bodyAt + bodyLength;
  putU32(out, at + 22, oggCrc(out, at, end));
  return end - at;
}

function putU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** Appends a packet's lacing values (a 255 run, then the remainder, 0 for an exact multiple). Returns the new count. */
export function lacePacket(laces: Uint8Array, segments: number, packetLength: number): number {
  let left = packetLength;
  while (left >= 255) {
    laces[segments++] = 255;
    left -= 255;
  }
  laces[segments++] = left;
  return segments;
}

/** Lacing values a packet of this length needs. */
export function lacingValues(packetLength: number): number {
  return Math.floor(packetLength / 255) + 1;
}

export interface OggPageInfo extends OggPageFields {
  /** Header + lacing table length. */
  headerLength: number;
  bodyLength: number;
  /** headerLength + bodyLength. */
  pageLength: number;
  segments: number;
}

/**
 * Parses the page header at `at` of `bytes`. Returns null when fewer bytes than the header and
 * lacing table are there (a torn page), 'corrupt' when it is not an Ogg page header.
 * The CRC is checked by checkOggPage once the whole page is at hand.
 */
export function parseOggPageHeader(bytes: Uint8Array, at: number): OggPageInfo | null | 'corrupt' {
  if (bytes.length - at < OGG_HEADER_BYTES) return null;
  if (bytes[at] !== 0x4f || bytes[at + 1] !== 0x67 || bytes[at + 2] !== 0x67 || bytes[at + 3] !== 0x53 || bytes[at + 4] !== 0) return 'corrupt';
  const segments = bytes[at + 26]!;
  const headerLength = OGG_HEADER_BYTES + segments;
  if (bytes.length - at < headerLength) return null;
  let bodyLength = 0;
  for (let i = 0; i < segments; i++) bodyLength += bytes[at + OGG_HEADER_BYTES + i]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    flags: bytes[at + 5]!,
    granule: getGranule(view, at + 6),
    serial: view.getUint32(at + 14, true),
    sequence: view.getUint32(at + 18, true),
    headerLength,
    bodyLength,
    pageLength: headerLength + bodyLength,
    segments,
  };
}

/** Whether the whole page at `at` (pageLength bytes) is present and its CRC matches. */
export function checkOggPage(bytes: Uint8Array, at: number, pageLength: number): boolean {
  if (bytes.length - at < pageLength) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(at + 22, true);
  view.setUint32(at + 22, 0, true);
  const crc = oggCrc(bytes, at, at + pageLength);
  view.setUint32(at + 22, stored, true);
  return crc === stored;
}

function getGranule(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if (lo === 0xffffffff && hi === 0xffffffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}
