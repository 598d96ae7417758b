// What an SDP offer must look like before werift is allowed to parse it.
// werift answers nonsense (md5 or garbage fingerprints, 20-digit ports, NUL
// bytes in ICE credentials, 70 m-lines) and throws JavaScript errors on other
// inputs, so every offer passes these rules first, in the control plane (for a
// clear 400) and again in the media worker (the boundary werift sits behind).
// The rules accept what Chrome, Firefox, Safari and werift offer for one audio
// track and nothing structurally else: exactly one audio m-line, DTLS with a
// SHA-256 fingerprint (RFC 8122; browsers send nothing else), ICE credentials
// of the RFC 8839 alphabet and length, ports that are ports.
// Returned problems are our own sentences: safe to show to the client.

/** Real offers are 2–8 KB; anything far larger is not an SDP we want to parse. */
export const MAX_OFFER_CHARS = 32 * 1024;
/** A browser's audio offer has ~40–80 lines; hundreds of interfaces would still fit. */
const MAX_LINES = 256;
/** Candidates in one offer (several interfaces × UDP/TCP × IPv4/IPv6 stays far below). */
const MAX_CANDIDATES = 64;
/** Payload types on the m-line (Chrome offers ~10 for audio). */
const MAX_PAYLOAD_TYPES = 32;

/** RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"; ufrag 4–256, pwd 22–256 characters. */
const ICE_UFRAG = /^[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^[A-Za-z0-9+/]{22,256}$/;
/** RFC 8122 §5 with hash sha-256: 32 bytes as colon-separated upper or lower hex pairs. */
const SHA256_FINGERPRINT = /^sha-256 [0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}$/i;
/** Printable ASCII only: no NUL or other control bytes can reach werift's parser. */
const PRINTABLE_LINE = /^[\x20-\x7e]*$/;
const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~]{1,64}$/;

export type OfferDirection = 'send' | 'receive';

/** null when the offer may be given to werift; otherwise what is wrong with it, in words. */
export function offerProblem(sdp: unknown, want: OfferDirection): string | null {
  if (typeof sdp !== 'string' || sdp.length === 0) return 'the SDP is empty';
  if (sdp.length > MAX_OFFER_CHARS) return `the SDP is larger than ${MAX_OFFER_CHARS} characters`;
  if (!sdp.startsWith('v=0\r\n') && !sdp.startsWith('v=0\n')) return 'the SDP must start with "v=0"';
  const lines = sdp.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length > MAX_LINES) return `the SDP has more than ${MAX_LINES} lines`;

  const mLines: string[] = [];
  const ufrags = new Set<string>();
  const pwds = new Set<string>();
  let ufragLines = 0;
  let pwdLines = 0;
  let fingerprints = 0;
  let candidates = 0;
  let mids = 0;
  let opus = false;
  let direction = 'sendrecv';
  let payloadTypes = new Set<number>();
  for (const line of lines) {
    if (!PRINTABLE_LINE.test(line)) return 'the SDP contains control or non-ASCII characters';
    if (!/^[a-z]=/.test(line)) return 'every SDP line must be "<letter>=<value>"';
    if (line.startsWith('m=')) {
      mLines.push(line);
      if (mLines.length > 1) return 'the SDP must have exactly one media section (audio)';
      const m = /^m=audio (\d{1,5}) (UDP\/TLS\/RTP\/SAVPF) ((?:\d{1,3} ?)+)$/i.exec(line);
      if (!m) return 'the media section must be "m=audio <port> UDP/TLS/RTP/SAVPF <payload types>"';
      if (!validPort(m[1]!, 1)) return 'the m-line port is out of range';
      const pts = m[3]!.trim().split(' ');
      if (pts.length > MAX_PAYLOAD_TYPES) return `the m-line lists more than ${MAX_PAYLOAD_TYPES} payload types`;
      payloadTypes = new Set(pts.map(Number));
      if ([...payloadTypes].some((pt) => pt > 127)) return 'an RTP payload type is out of range (0–127)';
      continue;
    }
    if (line.startsWith('c=')) {
      if (!/^c=IN IP[46] [0-9A-Fa-f.:]{1,45}$/.test(line)) return 'a connection line (c=) is malformed';
      continue;
    }
    if (!line.startsWith('a=')) continue;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line.slice(2) : line.slice(2, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1);
    switch (name) {
      case 'ice-ufrag':
        ufragLines++;
        if (!ICE_UFRAG.test(value)) return 'the ICE username fragment (a=ice-ufrag) must be 4–256 characters of A–Z a–z 0–9 + /';
        ufrags.add(value);
        break;
      case 'ice-pwd':
        pwdLines++;
        if (!ICE_PWD.test(value)) return 'the ICE password (a=ice-pwd) must be 22–256 characters of A–Z a–z 0–9 + /';
        pwds.add(value);
        break;
      case 'fingerprint':
        fingerprints++;
        if (!SHA256_FINGERPRINT.test(value)) return 'the DTLS fingerprint must be a sha-256 fingerprint (32 colon-separated hex bytes)';
        break;
      case 'setup':
        if (!/^(actpass|active|passive)$/.test(value)) return 'a=setup must be actpass, active or passive';
        break;
      case 'mid':
        mids++;
        if (mLines.length === 0 || !TOKEN.test(value)) return 'a=mid must be a short token inside the media section';
        break;
      case 'candidate': {
        candidates++;
        if (candidates > MAX_CANDIDATES) return `the SDP has more than ${MAX_CANDIDATES} ICE candidates`;
        const problem = candidateProblem(value);
        if (problem) return problem;
        break;
      }
      case 'rtcp':
        if (!/^(\d{1,5})( IN IP[46] [0-9A-Fa-f.:]{1,45})?$/.test(value) || !validPort(value.split(' ')[0]!, 0)) return 'a=rtcp has a bad port';
        break;
      case 'rtpmap':
      case 'fmtp':
      case 'rtcp-fb': {
        const pt = /^(\d{1,3}|\*)[ /]/.exec(value)?.[1];
        if (pt === undefined) return `a=${name} must start with a payload type`;
        if (mLines.length === 0) return `a=${name} must be inside the media section`;
        if (pt !== '*' && !payloadTypes.has(Number(pt))) return `a=${name} names payload type ${pt}, which the m-line does not list`;
        if (name === 'rtpmap' && /^\d{1,3} opus\/48000\/2$/i.test(value)) opus = true;
        break;
      }
      case 'sendrecv':
      case 'sendonly':
      case 'recvonly':
      case 'inactive':
        direction = name;
        break;
    }
  }
  if (mLines.length === 0) return 'the SDP has no audio section (m=audio)';
  if (mids !== 1) return 'the media section must have exactly one a=mid';
  if (!opus) return 'the SDP offers no opus/48000/2';
  if (fingerprints === 0) return 'the SDP has no DTLS fingerprint';
  if (ufragLines === 0 || pwdLines === 0) return 'the SDP has no ICE credentials (a=ice-ufrag and a=ice-pwd)';
  if (ufrags.size !== 1 || pwds.size !== 1 || ufragLines > 2 || pwdLines > 2) return 'the SDP has conflicting ICE credentials';
  if (want === 'send' && direction !== 'sendrecv' && direction !== 'sendonly') return `a broadcaster offer must send audio (it is ${direction})`;
  if (want === 'receive' && direction !== 'sendrecv' && direction !== 'recvonly') return `a listener offer must receive audio (it is ${direction})`;
  return null;
}

/**
 * RFC 8839 §5.1: foundation component-id transport priority address port "typ" cand-type
 * [raddr x rport y] *(extension-att-name extension-att-value). The address may be an IP
 * or a host name (browsers hide local addresses behind mDNS "<uuid>.local" names).
 */
function candidateProblem(value: string): string | null {
  const m =
    /^([A-Za-z0-9+/]{1,32}) (\d{1,3}) (udp|tcp) (\d{1,10}) ([A-Za-z0-9.:-]{1,253}) (\d{1,5}) typ (host|srflx|prflx|relay)((?: \S+ \S+)*)$/i.exec(
      value,
    );
  if (!m) return 'an ICE candidate (a=candidate) is malformed';
  const component = Number(m[2]);
  if (component < 1 || component > 256) return 'an ICE candidate has a bad component id';
  if (Number(m[4]) > 0xffff_ffff) return 'an ICE candidate priority is out of range';
  if (!validPort(m[6]!, 0)) return 'an ICE candidate port is out of range';
  const ext = m[8]!.trim().split(' ');
  for (let i = 0; i + 1 < ext.length; i += 2) {
    if (ext[i] === 'rport' && !validPort(ext[i + 1]!, 0)) return 'an ICE candidate rport is out of range';
    if (ext[i] === 'raddr' && !/^[A-Za-z0-9.:-]{1,253}$/.test(ext[i + 1]!)) return 'an ICE candidate raddr is malformed';
  }
  return null;
}

function validPort(digits: string, min: number): boolean {
  if (!/^\d{1,5}$/.test(digits)) return false;
  const n = Number(digits);
  return n >= min && n <= 65_535;
}
