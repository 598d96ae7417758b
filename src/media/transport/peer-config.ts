// werift peer configuration for every server-side peer connection, derived
// from Config so the server works behind NAT and inside a fixed UDP range.
import { RTCRtpCodecParameters, type RTCIceServer, type RTCPeerConnection, type RTCPeerConnectionConfig } from 'werift';
import type { Config } from '../../config.js';

/** Chromium's default Opus payload type; werift answers with the offerer's number anyway. */
export const OPUS_PAYLOAD_TYPE = 111;

/**
 * RFC 7587 §7: Opus is always signalled as opus/48000/2, even for mono; the
 * packets themselves say whether they carry one or two channels.
 */
export function opusCodec(): RTCRtpCodecParameters {
  return new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48_000,
    channels: 2,
    payloadType: OPUS_PAYLOAD_TYPE,
    parameters: 'minptime=10;useinbandfec=1',
    rtcpFeedback: [],
  });
}

export type IcePeerConfig = Pick<Config, 'iceAnnouncedAddress' | 'icePortMin' | 'icePortMax' | 'iceServers'>;

export function peerConfig(config: IcePeerConfig): RTCPeerConnectionConfig {
  const portRange: [number, number] | undefined =
    config.icePortMin !== undefined && config.icePortMax !== undefined
      ? // werift refuses min == max; a one-port "range" is widened by one.
        [config.icePortMin, Math.max(config.icePortMax, config.icePortMin + 1)]
      : undefined;
  return {
    codecs: { audio: [opusCodec()] },
    headerExtensions: { audio: [] },
    iceServers: parseIceServers(config.iceServers),
    icePortRange: portRange,
    // werift skips loopback while gathering; tests and single-machine setups
    // need it. (ICE_ANNOUNCED_ADDRESS is added to the answer, see announceAddress.)
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    // Without a filter werift pairs a loopback local candidate with remote
    // non-loopback ones (and vice versa); those checks can never succeed and
    // only delay nomination.
    iceFilterCandidatePair: (pair) => isLoopback(pair.localCandidate.host) === isLoopback(pair.remoteCandidate.host),
  };
}

function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host === 'localhost';
}

/**
 * `stun:host:port` or `turn:user:pass@host:port[?transport=tcp]` (the ICE_SERVERS
 * syntax documented in README) → W3C RTCIceServer.
 */
export function parseIceServers(entries: string[]): RTCIceServer[] {
  return entries.map((entry) => {
    const m = /^(stuns?|turns?):(?:([^:@]+):([^@]+)@)?(.+)$/.exec(entry);
    if (!m) throw new Error(`invalid ICE server "${entry}": expected stun:host:port or turn:user:pass@host:port`);
    const [, scheme, username, credential, rest] = m;
    const server: RTCIceServer = { urls: `${scheme}:${rest}` };
    if (username !== undefined) {
      server.username = decodeURIComponent(username);
      server.credential = decodeURIComponent(credential!);
    }
    return server;
  });
}

/**
 * werift queries stun.l.google.com when no STUN server is configured and waits up to 5 s
 * for it before the description is complete. Without configured servers a server must not
 * talk to the internet at all, so the gatherer's STUN server is cleared once it exists
 * (after createOffer / setRemoteDescription, before setLocalDescription).
 */
export function suppressDefaultStun(pc: RTCPeerConnection, iceServers: RTCIceServer[]): void {
  const hasStun = iceServers.some((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]).some((u) => u.startsWith('stun')));
  if (hasStun) return;
  for (const transport of pc.iceTransports) {
    (transport.connection as unknown as { stunServer: unknown }).stunServer = undefined;
  }
}

/** The worker protocol's cap on an SDP (offers are checked against MAX_OFFER_CHARS in sdp-offer-check.ts). */
export const MAX_SDP_BYTES = 64 * 1024;

/** Applies a remote offer and returns the complete answer (all candidates inline: no trickle over HTTP). */
export async function answerOffer(
  pc: RTCPeerConnection,
  offerSdp: string,
  iceServers: RTCIceServer[],
  prepare: () => void = () => {},
  announcedAddress?: string,
): Promise<string> {
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  prepare();
  suppressDefaultStun(pc, iceServers);
  await pc.setLocalDescription(await pc.createAnswer());
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('werift produced no local description');
  return announcedAddress ? announceAddress(sdp, announcedAddress) : sdp;
}

/**
 * Behind NAT (or in a container) the server's own addresses are private. With
 * ICE_ANNOUNCED_ADDRESS set, every non-loopback host candidate gets a twin at the
 * announced address and the same port (forward ICE_PORT_MIN..MAX/udp to this host),
 * preferred over the original. The browser's checks reach the real socket through the
 * NAT and werift answers them as peer-reflexive: the approach of mediasoup's announcedIp.
 */
export function announceAddress(sdp: string, address: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const out: string[] = [];
  for (const line of sdp.split(eol)) {
    const m = /^a=candidate:(\S+) (\d+) (udp|UDP) (\d+) (\S+) (\d+) typ host(.*)$/.exec(line);
    if (m && !isLoopback(m[5]!) && m[5] !== address) {
      const [, foundation, component, proto, priority, , port, rest] = m;
      out.push(`a=candidate:${foundation}x ${component} ${proto} ${Number(priority) + 1} ${address} ${port} typ host${rest}`);
    }
    out.push(line);
  }
  return out.join(eol);
}
