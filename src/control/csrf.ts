// CSRF protection by Origin check: a state-changing request (and every
// WebSocket upgrade) must come from this site's own pages. Browsers always
// send Origin on cross-site POSTs and WebSocket handshakes (and on
// sendBeacon), so checking it is enough; Referer is the fallback for the few
// same-origin requests that omit Origin. "This site" is a whole origin —
// scheme, host and port — never the host alone.
//
// DNS rebinding: a page on evil.example whose name is re-pointed at this
// server sends `Host: evil.example` with a matching Origin. With PUBLIC_URL
// configured, the Host guard refuses every Host but its own (421).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface OriginPolicy {
  /** PUBLIC_URL: the one page origin, and the only Host accepted. */
  publicUrl?: URL | undefined;
  /** ALLOWED_ORIGINS: further origins that may POST and open /ws. */
  allowedOrigins: readonly string[];
}

/** The origin of this site's pages: PUBLIC_URL's, else the request's own scheme://host:port. */
export function ownOrigin(request: FastifyRequest, policy: OriginPolicy): string | null {
  if (policy.publicUrl) return policy.publicUrl.origin;
  try {
    return new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return null;
  }
}

/** True when the request's Origin (or Referer) is this site's origin or one of `allowedOrigins`. */
export function csrfOriginAllowed(request: FastifyRequest, policy: OriginPolicy): boolean {
  const source = request.headers.origin ?? request.headers.referer;
  if (typeof source !== 'string' || source === '' || source === 'null') return false;
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return false;
  }
  if (policy.allowedOrigins.includes(url.origin)) return true;
  return url.origin === ownOrigin(request, policy);
}

export function csrfGuard(policy: OriginPolicy) {
  return async function checkOrigin(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (SAFE_METHODS.has(request.method)) return;
    if (!csrfOriginAllowed(request, policy)) {
      throw new ApiError('CSRF_ORIGIN', 'This request did not come from the hushcast page (Origin check failed). Reload the page and try again.');
    }
  };
}

/** With PUBLIC_URL set, a request for any other Host is refused with 421 (GET /api/health excepted, for load balancers). */
export function hostGuard(publicUrl: URL | undefined) {
  return async function checkHost(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (!publicUrl || request.url === '/api/health') return;
    let host: string | null = null;
    try {
      host = new URL(`${publicUrl.protocol}//${request.host}`).host;
    } catch {
      /* not a host name: refused below */
    }
    if (host !== publicUrl.host) {
      throw new ApiError('MISDIRECTED_HOST', `This server answers only for ${publicUrl.host}.`);
    }
  };
}
