// The broadcaster's Opus packet length, set through the answer SDP.
/**
 * Opus frame length the browser sends. Chrome packs 20 ms by default; 10 ms halves the
 * packetization delay (the server decodes, denoises and re-encodes in 10 ms hops anyway)
 * for ~3 kbit/s of extra header overhead.
 */
export const UPLINK_PTIME_MS = 10;

/** Adds `a=ptime:N` to the audio section of an answer that has none (the sender follows the answer's ptime). */
export function withPtime(sdp: string, ptimeMs: number): string {
  if (/^a=ptime:/m.test(sdp)) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const audio = lines.findIndex((l) => l.startsWith('m=audio'));
  if (audio < 0) return sdp;
  let end = lines.findIndex((l, i) => i > audio && l.startsWith('m='));
  if (end < 0) end = lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  lines.splice(end, 0, `a=ptime:${ptimeMs}`);
  return lines.join(eol);
}
