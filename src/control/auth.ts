// Accounts: sign up, sign in, sign out, who am I. Passwords are hashed with
// argon2id (@node-rs/argon2 defaults: 19 MiB, t=2, p=1 — OWASP's minimum
// recommendation), hashing runs on libuv's thread pool, off the event loop.
import { hash, verify } from '@node-rs/argon2';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createSession, deleteSession } from '../store/sessions.js';
import { createUser, findUserByUsername, normalizeUsername } from '../store/users.js';
import { isCommonPassword } from './common-passwords.js';
import { ApiError } from './errors.js';
import { clearSessionCookie, setSessionCookie } from './session-cookie.js';
import { retryMessage } from './sign-in-limiter.js';
import { parseInput } from './validation.js';

/** Algorithm.Argon2id of @node-rs/argon2 (a const enum, which isolatedModules cannot import). */
const ARGON2ID = 2;

export const Username = z
  .string({ error: 'must be a text' })
  .transform((s) => normalizeUsername(s))
  .pipe(z.string().regex(/^[a-z0-9_]{3,30}$/, { error: 'must be 3–30 characters of a–z, 0–9 or _' }));

const Password = z
  .string({ error: 'must be a text' })
  .min(8, { error: 'must be at least 8 characters' })
  .max(256, { error: 'must be at most 256 characters' })
  .refine((p) => p.trim() !== '', { error: 'must not be only spaces' })
  .refine((p) => !isCommonPassword(p), { error: 'is one of the 10,000 most common passwords; please choose another' });

const SignUpBody = z.object({ username: Username, password: Password });
/** Sign-in does not re-check the sign-up rules, so old accounts keep working if the rules change. */
const SignInBody = z.object({
  username: z.string({ error: 'must be a text' }).min(1, { error: 'is required' }).max(100, { error: 'is too long' }),
  password: z.string({ error: 'must be a text' }).min(1, { error: 'is required' }).max(256, { error: 'is too long' }),
});

export async function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
}

export const authPlugin: FastifyPluginAsync = async (app) => {
  const { db, config, signInLimiter, signUpLimiter, presence } = app.services;
  // Verified when the username does not exist, so a wrong username takes as long as a wrong password.
  const dummyHash = await hashPassword('not-a-real-password');

  app.post('/api/auth/signup', async (request, reply) => {
    const body = parseInput(SignUpBody, request.body);
    const admission = await signUpLimiter.admit(request.ip);
    if (!admission.ok) {
      const minutes = Math.ceil(admission.retryAfterSeconds / 60);
      throw new ApiError('TOO_MANY_SIGNUPS', `Too many new accounts from your network address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, {
        headers: { 'retry-after': String(admission.retryAfterSeconds) },
      });
    }
    if (await findUserByUsername(db, body.username)) throw taken(body.username);
    const user = await createUser(db, body.username, await hashPassword(body.password));
    if (!user) throw taken(body.username);
    const sessionId = await createSession(db, user.id, config.sessionTtlHours);
    setSessionCookie(request, reply, sessionId, config.sessionTtlHours);
    return reply.code(201).send({ user, message: `Welcome to hushcast, ${user.username}!` });
  });

  app.post('/api/auth/signin', async (request, reply) => {
    const body = parseInput(SignInBody, request.body);
    const username = normalizeUsername(body.username);
    // Admitting counts the attempt as a failure at once, so parallel requests cannot all pass the check.
    const admission = await signInLimiter.admit(request.ip, username);
    if (!admission.ok) {
      const { lockout } = admission;
      throw new ApiError('TOO_MANY_ATTEMPTS', retryMessage(lockout), {
        headers: { 'retry-after': String(lockout.retryAfterSeconds) },
      });
    }
    const found = await findUserByUsername(db, username);
    const ok = await verify(found?.password_hash ?? dummyHash, body.password);
    if (!found || !ok) throw new ApiError('BAD_CREDENTIALS', 'Wrong username or password.');
    await signInLimiter.succeeded(admission.attempt);
    const sessionId = await createSession(db, found.id, config.sessionTtlHours);
    setSessionCookie(request, reply, sessionId, config.sessionTtlHours);
    return { user: { id: found.id, username: found.username }, message: `Welcome back, ${found.username}.` };
  });

  app.post('/api/auth/signout', async (request, reply) => {
    const session = await app.resolveSession(request);
    if (session) {
      await deleteSession(db, session.sessionId);
      // Tabs signed in with this session stop receiving events at once.
      presence.closeSession(session.sessionId);
    }
    clearSessionCookie(request, reply);
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { preHandler: app.requireUser }, async (request) => {
    return { user: request.user };
  });
};

function taken(username: string): ApiError {
  return new ApiError('USERNAME_TAKEN', `The username "${username}" is already taken. Please choose another.`);
}
