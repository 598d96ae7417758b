// offline / online / live, as colour AND text (never colour alone).
import type { FriendStatus } from '../contract.js';

export type Presence = 'offline' | 'online' | 'live';

export function presenceOf(f: Pick<FriendStatus, 'online' | 'is_streaming'> | undefined): Presence {
  if (!f) return 'offline';
  return f.is_streaming ? 'live' : f.online ? 'online' : 'offline';
}

const LABEL: Record<Presence, string> = { offline: 'Offline', online: 'Online', live: 'Live' };

export function StatusBadge({ presence, testid }: { presence: Presence; testid?: string }) {
  return (
    <span class={`badge badge--${presence}`} data-testid={testid} data-presence={presence}>
      <span class="badge__dot" aria-hidden="true" />
      {LABEL[presence]}
    </span>
  );
}
