// GET /api/users/:username — find someone, and how they relate to the caller.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Db } from '../store/db.js';
import { findFriendRequestBetween } from '../store/friend-requests.js';
import { areFriends } from '../store/friends.js';
import { findUserByUsername } from '../store/users.js';
import { ApiError } from './errors.js';
import { parseInput } from './validation.js';

export type Relation = 'self' | 'friend' | 'incoming' | 'outgoing' | 'none';

export async function relationBetween(db: Db, me: number, other: number): Promise<Relation> {
  if (me === other) return 'self';
  if (await areFriends(db, me, other)) return 'friend';
  if (await findFriendRequestBetween(db, other, me)) return 'incoming';
  if (await findFriendRequestBetween(db, me, other)) return 'outgoing';
  return 'none';
}

const Params = z.object({ username: z.string().min(1).max(100) });

export const usersPlugin: FastifyPluginAsync = async (app) => {
  const { db } = app.services;
  app.get('/api/users/:username', { preHandler: app.requireUser }, async (request) => {
    const { username } = parseInput(Params, request.params, 'username');
    const user = await findUserByUsername(db, username);
    if (!user) throw new ApiError('USER_NOT_FOUND', `There is no user called "${username.toLowerCase()}".`);
    return { user: { username: user.username, relation: await relationBetween(db, request.user.id, user.id) } };
  });
};
