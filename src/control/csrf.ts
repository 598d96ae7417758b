// CSRF protection by Origin check: a state-changing request (and every
// WebSocket upgrade) must come from this site's own pages. Browsers always
// send Origin on cross-site POSTs and WebSocket handshakes (and on
// sendBeacon), so checking it is enough; Referer is the fallback for the few
// same-origin requests that omit Origin.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the request's Origin (or Referer) is this host or one of `allowedOrigins`. */
export function csrfOriginAllowed(request: FastifyRequest, allowedOrigins: readonly string[]): boolean {
  const source = request.headers.origin ?? request.headers.referer;
  if (typeof source !== 'string' || source === '' || source === 'null') return false;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return false;
  }
  if (allowedOrigins.includes(url.origin)) return true;
  return url.host === request.host;
}

export function csrfGuard(allowedOrigins: readonly string[]) {
  return async function checkOrigin(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (SAFE_METHODS.has(request.method)) return;
    if (!csrfOriginAllowed(request, allowedOrigins)) {
      throw new ApiError('CSRF_ORIGIN', 'This request did not come from the hushcast page (Origin check failed). Reload the page and try again.');
    }
  };
}
