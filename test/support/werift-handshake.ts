// One WebRTC connection between two plain werift peers (no hushcast code)
// through a UdpImpairmentRelay, reported as connected or stuck with each
// side's DTLS flight: the reproduction of the DTLS handshake stall, shared by
// scripts/dtls-handshake-repro.ts and the integration test. Not a test file itself.
import { MediaStreamTrack, RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { type Impairment, UdpImpairmentRelay } from './udp-impairment-relay.js';

function plainConfig() {
  return {
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2, payloadType: 111 })],
    },
    headerExtensions: { audio: [] },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceUseIpv6: false,
    iceFilterCandidatePair: (pair: { localCandidate: { host: string }; remoteCandidate: { host: string } }) =>
      pair.localCandidate.host.startsWith('127.') && pair.remoteCandidate.host.startsWith('127.'),
  };
}

/** werift asks stun.l.google.com when no STUN server is set; nothing may leave this machine. */
function noStun(pc: RTCPeerConnection): void {
  for (const t of pc.iceTransports) (t.connection as unknown as { stunServer: unknown }).stunServer = undefined;
}

interface DtlsInternals {
  dtls?: { dtls?: { flight: number }; connected: boolean };
  state: string;
}

/** ICE and DTLS state of a peer, with werift's DTLS flight number (what a stall report needs). */
export function describeDtls(pc: RTCPeerConnection): string {
  const d = pc.dtlsTransports[0] as unknown as DtlsInternals | undefined;
  return `ICE ${pc.iceConnectionState}, DTLS ${d?.state ?? 'none'} at flight ${d?.dtls?.dtls?.flight ?? '-'}`;
}

export function whenConnected(pc: RTCPeerConnection): Promise<void> {
  return new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve();
    const { unSubscribe } = pc.connectionStateChange.subscribe((s) => {
      if (s !== 'connected') return;
      unSubscribe();
      resolve();
    });
  });
}

export interface HandshakeResult {
  connected: boolean;
  ms: number;
  /** Both sides' states and the relay's counters. */
  detail: string;
}

/**
 * The offerer is ICE-controlling and so the DTLS server (like a browser or a test
 * client); the answerer is the DTLS client (like hushcast's server, a=setup:active).
 */
export async function handshakeThroughRelay(seed: number, impairment: Impairment, timeoutMs: number): Promise<HandshakeResult> {
  const relay = new UdpImpairmentRelay(seed, impairment);
  const offerer = new RTCPeerConnection(plainConfig());
  const answerer = new RTCPeerConnection(plainConfig());
  offerer.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const offer = await offerer.createOffer();
    noStun(offerer);
    await offerer.setLocalDescription(offer);
    await answerer.setRemoteDescription({ type: 'offer', sdp: await relay.rewrite(offerer.localDescription!.sdp) });
    noStun(answerer);
    await answerer.setLocalDescription(await answerer.createAnswer());
    await offerer.setRemoteDescription({ type: 'answer', sdp: await relay.rewrite(answerer.localDescription!.sdp) });
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([Promise.all([whenConnected(answerer), whenConnected(offerer)]), timeout]);
    const detail = `DTLS client (answerer): ${describeDtls(answerer)}; DTLS server (offerer): ${describeDtls(offerer)}; relay ${JSON.stringify(relay.counters)}`;
    return { connected: outcome !== 'timeout', ms: performance.now() - t0, detail };
  } finally {
    clearTimeout(timer);
    relay.close();
    await Promise.all([answerer.close(), offerer.close()]).catch(() => undefined);
  }
}
