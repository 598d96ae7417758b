// Who is calling: the session cookie resolved to its user. `requireUser` is
// the preHandler every signed-in route uses (`{preHandler: app.requireUser}`);
// it sets `request.user` and `request.sessionId` or answers 401 NOT_SIGNED_IN.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../store/db.js';
import { findLiveSession } from '../store/sessions.js';
import type { PublicUser } from '../store/users.js';
import { ApiError } from './errors.js';
import { SESSION_COOKIE, unsignSessionCookie } from './session-cookie.js';

export type AuthUser = PublicUser;

export interface ResolvedSession {
  sessionId: string;
  user: AuthUser;
  /** Epoch ms; the presence socket closes then. */
  expiresAt: number;
}

export type SessionResolver = (request: FastifyRequest) => Promise<ResolvedSession | null>;

export function sessionResolver(db: Db, secret: string): SessionResolver {
  return async (request) => {
    const sessionId = unsignSessionCookie(secret, request.cookies[SESSION_COOKIE]);
    if (!sessionId) return null;
    const found = await findLiveSession(db, sessionId);
    return found ? { sessionId, user: found.user, expiresAt: found.expiresAt } : null;
  };
}

export function requireUserHook(resolve: SessionResolver) {
  return async function requireUser(request: FastifyRequest): Promise<void> {
    const session = await resolve(request);
    if (!session) throw new ApiError('NOT_SIGNED_IN', 'You are not signed in (or your session expired). Please sign in.');
    request.user = session.user;
    request.sessionId = session.sessionId;
  };
}
