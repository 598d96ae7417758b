// Turns getUserMedia / WebRTC failures into sentences a broadcaster can act on.

export function microphoneUnavailableReason(): string | null {
  if (!window.isSecureContext) {
    return 'The microphone only works on a secure page: open hushcast over https:// (or on localhost).';
  }
  if (!navigator.mediaDevices?.getUserMedia) return 'This browser cannot capture audio (no getUserMedia).';
  if (typeof RTCPeerConnection === 'undefined') return 'This browser does not support WebRTC.';
  return null;
}

export function describeMicrophoneError(err: unknown): string {
  const name = err instanceof DOMException || err instanceof Error ? err.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Microphone access was denied. Allow the microphone for this site in the browser settings, then try again.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No microphone was found. Plug one in and try again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The microphone is busy or unavailable (another app may be using it).';
    default:
      return `Could not open the microphone: ${err instanceof Error ? err.message : String(err)}`;
  }
}
