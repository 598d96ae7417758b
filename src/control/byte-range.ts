// HTTP Range requests (RFC 9110 §14) for serving recordings: one byte range per
// request, which is all browsers' media elements ask for when seeking. Several
// ranges are answered with the whole file (RFC 9110 allows ignoring Range),
// which keeps multipart bodies out of the server.

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * The range `header` asks of a `size`-byte resource: a ByteRange, null to serve the whole
 * resource (no header, another unit, several ranges), or 'unsatisfiable' (answer 416) for a
 * malformed bytes range or one that lies outside the resource.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return null;
  const specs = m[1]!.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (specs.length !== 1) return specs.length === 0 ? 'unsatisfiable' : null;
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return 'unsatisfiable';
  if (spec[1] === '') {
    // Suffix range: the last N bytes.
    const n = Number(spec[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (start >= size || (spec[2] !== '' && Number(spec[2]) < start)) return 'unsatisfiable';
  return { start, end };
}
