// Sends real-time events to people: publishes on the bus topic `user:<id>`,
// which every open WebSocket of that user is subscribed to (on any node).
// Messages are serialized once per call, whatever the number of recipients.
import type { Bus } from '../bus/bus.js';
import type { Db } from '../store/db.js';
import { friendIdsOf } from '../store/friends.js';
import type { ServerMessage } from './ws-messages.js';

export function userTopic(userId: number): string {
  return `user:${userId}`;
}

export interface OnlineCheck {
  isOnline(userId: number): Promise<boolean>;
}

export class Notifier {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly presence: OnlineCheck,
  ) {}

  async toUser(userId: number, msg: ServerMessage): Promise<void> {
    await this.bus.publish(userTopic(userId), JSON.stringify(msg));
  }

  /** To every current friend of `userId` (read from the database now, so a just-removed friend gets nothing). */
  async toFriendsOf(userId: number, msg: ServerMessage): Promise<void> {
    const ids = await friendIdsOf(this.db, userId);
    await this.publishAll(ids, JSON.stringify(msg));
  }

  /** To `userId`'s own tabs and to every friend (e.g. streaming_status). */
  async toUserAndFriends(userId: number, msg: ServerMessage): Promise<void> {
    const ids = await friendIdsOf(this.db, userId);
    ids.push(userId);
    await this.publishAll(ids, JSON.stringify(msg));
  }

  isOnline(userId: number): Promise<boolean> {
    return this.presence.isOnline(userId);
  }

  private async publishAll(userIds: number[], raw: string): Promise<void> {
    await Promise.all(userIds.map((id) => this.bus.publish(userTopic(id), raw)));
  }
}
