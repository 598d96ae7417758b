// The friends list: who is offline, online or live, a Listen link for live
// friends, and removal with an inline confirmation (no blocking dialog).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { FriendStatus } from '../contract.js';
import { Avatar } from '../layout/avatar.js';
import { Feedback } from '../layout/feedback.js';
import { Link } from '../router.js';
import { useAction } from '../use-action.js';
import { friendActions } from './friend-actions.js';
import { StatusBadge, presenceOf } from './status-badge.js';

export function FriendsList({ friends, loaded }: { friends: FriendStatus[]; loaded: boolean }) {
  const action = useAction();
  const [confirming, setConfirming] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the confirmation they just asked for.
  useEffect(() => confirmRef.current?.focus(), [confirming]);

  if (!loaded) return <p class="empty">Loading friends…</p>;
  return (
    <div>
      <Feedback message={action.message} error={action.error} testid="friends" />
      {friends.length === 0 ? (
        <p class="empty" data-testid="friends-empty">
          No friends yet. Send a request by username to get started.
        </p>
      ) : (
        <ul class="rows" data-testid="friends-list">
          {friends.map((f) => {
            const p = presenceOf(f);
            const href = `/friends/${encodeURIComponent(f.username)}`;
            return (
              <li key={f.username} class={`row row--${p}`} data-testid={`friend-${f.username}`} data-presence={p}>
                <Avatar name={f.username} />
                <div class="row__main">
                  <Link class="row__name" href={href} data-testid={`friend-link-${f.username}`}>
                    {f.username}
                  </Link>
                  <StatusBadge presence={p} testid={`friend-badge-${f.username}`} />
                </div>
                <div class="row__actions">
                  {p === 'live' && (
                    <Link
                      class="button button--live button--small"
                      href={href}
                      aria-label={`Listen to ${f.username} live`}
                      data-testid={`listen-${f.username}`}
                    >
                      Listen
                    </Link>
                  )}
                  {confirming === f.username ? (
                    <>
                      <button
                        ref={confirmRef}
                        type="button"
                        class="button button--danger button--small"
                        disabled={action.busy}
                        onClick={async () => {
                          await action.run(() => friendActions.remove(f.username), `${f.username} removed from friends.`);
                          setConfirming(null);
                        }}
                        data-testid={`confirm-remove-${f.username}`}
                      >
                        Remove {f.username}?
                      </button>
                      <button
                        type="button"
                        class="button button--small"
                        onClick={() => setConfirming(null)}
                        data-testid={`keep-${f.username}`}
                      >
                        Keep
                      </button>
                    </>
                  ) : (
                    <button
                      type="button"
                      class="button button--quiet button--small"
                      onClick={() => {
                        action.clear();
                        setConfirming(f.username);
                      }}
                      aria-label={`Remove ${f.username} from friends`}
                      data-testid={`remove-${f.username}`}
                    >
                      Remove
                    </button>
                  )}
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
