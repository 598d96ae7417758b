// The hc_session cookie: a signed random session id (the row in `sessions`
// says who). Signing means a forged or truncated cookie is rejected before
// touching the database.
import { sign, unsign } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'hc_session';

/** Cookie value for a session id (the bench and tests use it to skip sign-in). */
export function signSessionId(secret: string, sessionId: string): string {
  return sign(sessionId, secret);
}

/** The session id from a validly signed cookie value, or null. */
export function unsignSessionCookie(secret: string, value: string | undefined): string | null {
  if (!value) return null;
  const r = unsign(value, secret);
  return r.valid && r.value ? r.value : null;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string, ttlHours: number): void {
  reply.setCookie(SESSION_COOKIE, sessionId, {
    signed: true,
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    path: '/',
    maxAge: Math.floor(ttlHours * 3600),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.protocol === 'https' });
}
