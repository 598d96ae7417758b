// Friends: requests (send, accept, decline, cancel), removal, and the list the
// main page shows. Every change runs in one transaction and is checked first,
// so a bad or repeated action answers 4xx and changes nothing. The other side
// learns of each change in real time through the notifier.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import {
  createFriendRequest,
  deleteFriendRequest,
  deleteFriendRequestsBetween,
  findFriendRequest,
  findFriendRequestBetween,
  incomingRequestsOf,
  lockFriendPair,
  outgoingRequestsOf,
} from '../store/friend-requests.js';
import { activeStreamOf, addFriendship, areFriends, listFriends, removeFriendship } from '../store/friends.js';
import { findUserById, findUserByUsername, normalizeUsername, type PublicUser } from '../store/users.js';
import { ApiError } from './errors.js';
import type { Notifier } from './notifier.js';
import { parseInput } from './validation.js';

const RequestBody = z.object({ username: z.string({ error: 'must be a text' }).min(1, { error: 'is required' }).max(100, { error: 'is too long' }) });
const IdParams = z.object({ id: z.coerce.number({ error: 'must be a number' }).int({ error: 'must be a whole number' }).positive({ error: 'must be positive' }) });
const UsernameParams = z.object({ username: z.string().min(1).max(100) });

export const friendsPlugin: FastifyPluginAsync = async (app) => {
  const { db, notifier, presence, media } = app.services;
  app.addHook('preHandler', app.requireUser);

  app.get('/api/friends', async (request) => {
    const me = request.user.id;
    const [friends, incoming, outgoing] = await Promise.all([listFriends(db, me), incomingRequestsOf(db, me), outgoingRequestsOf(db, me)]);
    const online = await presence.onlineAmong(friends.map((f) => f.id));
    return {
      friends: friends.map((f) => ({
        username: f.username,
        online: online.has(f.id),
        is_streaming: f.session_id !== null,
        started_at: f.started_at,
        listeners: f.session_id !== null ? (media?.listenerCount(f.session_id) ?? 0) : 0,
      })),
      incoming,
      outgoing,
    };
  });

  app.post('/api/friends/requests', async (request, reply) => {
    const me = request.user;
    const { username } = parseInput(RequestBody, request.body);
    const target = await findUserByUsername(db, username);
    if (!target) throw new ApiError('USER_NOT_FOUND', `There is no user called "${normalizeUsername(username)}".`);
    if (target.id === me.id) throw new ApiError('SELF_REQUEST', 'You cannot send a friend request to yourself.');

    const outcome = await db.transaction().execute(async (trx) => {
      await lockFriendPair(trx, me.id, target.id);
      if (await areFriends(trx, me.id, target.id)) {
        throw new ApiError('ALREADY_FRIENDS', `You and ${target.username} are already friends.`);
      }
      if (await findFriendRequestBetween(trx, me.id, target.id)) {
        throw new ApiError('REQUEST_EXISTS', `You already sent ${target.username} a friend request; it is waiting for an answer.`);
      }
      if (await findFriendRequestBetween(trx, target.id, me.id)) {
        // They asked first: asking back is accepting.
        await deleteFriendRequestsBetween(trx, me.id, target.id);
        await addFriendship(trx, me.id, target.id);
        return { kind: 'friends' as const };
      }
      const created = await createFriendRequest(trx, me.id, target.id);
      if (!created) throw new ApiError('REQUEST_EXISTS', `You already sent ${target.username} a friend request; it is waiting for an answer.`);
      return { kind: 'requested' as const, created };
    });

    if (outcome.kind === 'friends') {
      await tell(request, announceFriendship(db, notifier, me, { id: target.id, username: target.username }));
      return reply.code(200).send({ friend: { username: target.username }, message: `You and ${target.username} are now friends` });
    }
    const { created } = outcome;
    await tell(
      request,
      Promise.all([
        notifier.toUser(target.id, {
          type: 'friend_request',
          request: { id: created.id, username: me.username, created_at: created.created_at },
        }),
        // The sender's other tabs list the outgoing request without a reload.
        notifier.toUser(me.id, {
          type: 'friend_request_sent',
          request: { id: created.id, username: target.username, created_at: created.created_at },
        }),
      ]),
    );
    return reply.code(201).send({
      request: { id: created.id, username: target.username, created_at: created.created_at },
      message: `Friend request sent to ${target.username}.`,
    });
  });

  app.post('/api/friends/requests/:id/accept', async (request) => {
    const me = request.user;
    const { id } = parseInput(IdParams, request.params, 'id');
    const sender = await db.transaction().execute(async (trx) => {
      const req = await lockedRequest(trx, id);
      if (!req || req.to_user !== me.id) throw requestNotFound(id);
      const from = await findUserById(trx, req.from_user);
      if (!from) throw requestNotFound(id);
      await deleteFriendRequestsBetween(trx, me.id, from.id);
      await addFriendship(trx, me.id, from.id);
      return from;
    });
    await tell(request, announceFriendship(db, notifier, me, sender));
    return { friend: { username: sender.username }, message: `You and ${sender.username} are now friends` };
  });

  /**
   * Declining (by the recipient) and cancelling (by the sender) both delete a pending request:
   * the other side is told what happened, the actor's other tabs drop it from their list.
   */
  async function withdrawRequest(request: FastifyRequest, actor: 'recipient' | 'sender'): Promise<string> {
    const me = request.user;
    const { id } = parseInput(IdParams, request.params, 'id');
    const other = await db.transaction().execute(async (trx) => {
      const req = await lockedRequest(trx, id);
      const mine = actor === 'recipient' ? req?.to_user : req?.from_user;
      if (!req || mine !== me.id) throw requestNotFound(id);
      const otherId = actor === 'recipient' ? req.from_user : req.to_user;
      const user = await findUserById(trx, otherId);
      await deleteFriendRequest(trx, id);
      return { id: otherId, username: user?.username ?? 'someone' };
    });
    const toOther =
      actor === 'recipient'
        ? ({ type: 'friend_request_declined', id, username: me.username } as const)
        : ({ type: 'friend_request_cancelled', id, username: me.username } as const);
    await tell(
      request,
      Promise.all([notifier.toUser(other.id, toOther), notifier.toUser(me.id, { type: 'friend_request_removed', id })]),
    );
    return other.username;
  }

  app.post('/api/friends/requests/:id/decline', async (request) => {
    const sender = await withdrawRequest(request, 'recipient');
    return { message: `You declined ${sender}'s friend request.` };
  });

  app.delete('/api/friends/requests/:id', async (request) => {
    const recipient = await withdrawRequest(request, 'sender');
    return { message: `You cancelled your friend request to ${recipient}.` };
  });

  app.delete('/api/friends/:username', async (request) => {
    const me = request.user;
    const { username } = parseInput(UsernameParams, request.params, 'username');
    const other = await findUserByUsername(db, username);
    const name = other?.username ?? normalizeUsername(username);
    if (!other || !(await removeFriendship(db, me.id, other.id))) {
      throw new ApiError('NOT_FRIENDS', `You and ${name} are not friends.`);
    }
    await tell(
      request,
      Promise.all([
        notifier.toUser(other.id, { type: 'friend_removed', username: me.username }),
        notifier.toUser(me.id, { type: 'friend_removed', username: other.username }),
      ]),
    );
    return { message: `You and ${other.username} are no longer friends.` };
  });
};

/**
 * The change is committed before anyone is told; if telling fails (bus down) the action still
 * succeeded, so it is logged rather than answered with a 500 that would invite a retry.
 * The other side sees the change on its next GET /api/friends.
 */
async function tell(request: FastifyRequest, notification: Promise<unknown>): Promise<void> {
  try {
    await notification;
  } catch (err) {
    request.log.error({ err, user: request.user.username }, 'real-time notification failed');
  }
}

/** The request, read again after locking its pair (a change from another node may have come first). */
async function lockedRequest(trx: Db, id: number) {
  const req = await findFriendRequest(trx, id);
  if (!req) return undefined;
  await lockFriendPair(trx, req.from_user, req.to_user);
  return findFriendRequest(trx, id);
}

function requestNotFound(id: number): ApiError {
  return new ApiError('REQUEST_NOT_FOUND', `There is no pending friend request #${id} for you to answer.`);
}

/** Tells both sides, each with the other's current online and live state, so their lists are right at once. */
async function announceFriendship(db: Db, notifier: Notifier, a: PublicUser, b: PublicUser): Promise<void> {
  const [aLive, bLive, aOnline, bOnline] = await Promise.all([
    activeStreamOf(db, a.id),
    activeStreamOf(db, b.id),
    notifier.isOnline(a.id),
    notifier.isOnline(b.id),
  ]);
  await Promise.all([
    notifier.toUser(a.id, { type: 'friend_added', username: b.username, online: bOnline, is_streaming: bLive !== undefined }),
    notifier.toUser(b.id, { type: 'friend_added', username: a.username, online: aOnline, is_streaming: aLive !== undefined }),
  ]);
}
