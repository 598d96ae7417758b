// Who is online: a user is online while any tab of theirs has a presence
// WebSocket open, on any node. The in-memory registry (one node) counts this
// node's sockets; the Redis registry (redis-online-registry.ts) counts every
// node's. Both answer the same questions, so the presence plugin does not know
// which one it has.

export interface OnlineRegistry {
  /** A socket of `userId` opened on this node; true when it is the user's first socket anywhere. */
  opened(userId: number): Promise<boolean>;
  /** A socket of `userId` on this node closed; true when it was the user's last socket anywhere. */
  closed(userId: number): Promise<boolean>;
  /** The users among `userIds` that are online. */
  onlineAmong(userIds: readonly number[]): Promise<Set<number>>;
  close(): Promise<void>;
}

/** One node: the counts are this process's sockets. */
export class LocalOnlineRegistry implements OnlineRegistry {
  private readonly counts = new Map<number, number>();

  async opened(userId: number): Promise<boolean> {
    const n = (this.counts.get(userId) ?? 0) + 1;
    this.counts.set(userId, n);
    return n === 1;
  }

  async closed(userId: number): Promise<boolean> {
    const n = (this.counts.get(userId) ?? 0) - 1;
    if (n > 0) {
      this.counts.set(userId, n);
      return false;
    }
    return this.counts.delete(userId);
  }

  async onlineAmong(userIds: readonly number[]): Promise<Set<number>> {
    return new Set(userIds.filter((id) => this.counts.has(id)));
  }

  async close(): Promise<void> {}
}
