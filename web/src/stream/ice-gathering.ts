// Non-trickle signaling: the server answers one offer carrying every candidate,
// so the offer is sent once ICE gathering completes. A host-only network
// finishes in milliseconds; a dead STUN server would stall gathering for ~40 s,
// hence the timeout (whatever was gathered by then is sent).
export const ICE_GATHERING_TIMEOUT_MS = 3000;

export function iceGatheringComplete(pc: RTCPeerConnection, timeoutMs = ICE_GATHERING_TIMEOUT_MS): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

/** Creates the local offer and returns its SDP once candidates are in it. */
export async function gatheredOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc);
  const sdp = pc.localDescription?.sdp;
  if (!sdp) throw new Error('The browser produced no SDP offer.');
  return sdp;
}
