// Incoming requests (accept / decline) and outgoing ones (cancel), kept live by the presence store.
import type { FriendRequest } from '../contract.js';
import { Avatar } from '../layout/avatar.js';
import { Feedback } from '../layout/feedback.js';
import { timeAgo } from '../time-ago.js';
import { Link } from '../router.js';
import { useAction } from '../use-action.js';
import { friendActions } from './friend-actions.js';

export function FriendRequests({ incoming, outgoing }: { incoming: FriendRequest[]; outgoing: FriendRequest[] }) {
  const action = useAction();
  return (
    <div class="requests">
      <Feedback message={action.message} error={action.error} testid="requests" />
      <h3 class="subhead">
        Incoming <span class="count" data-testid="incoming-count">{incoming.length}</span>
      </h3>
      {incoming.length === 0 ? (
        <p class="empty" data-testid="incoming-empty">
          No one is waiting for an answer.
        </p>
      ) : (
        <ul class="rows" data-testid="incoming-list">
          {incoming.map((r) => (
            <li key={r.id} class="row" data-testid={`incoming-${r.username}`}>
              <Avatar name={r.username} />
              <div class="row__main">
                <span class="row__name">{r.username}</span>
                <span class="row__meta">wants to be friends · {timeAgo(r.created_at)}</span>
              </div>
              <div class="row__actions">
                <button
                  type="button"
                  class="button button--primary button--small"
                  disabled={action.busy}
                  onClick={() => action.run(() => friendActions.accept(r.id), `You and ${r.username} are now friends.`)}
                  aria-label={`Accept friend request from ${r.username}`}
                  data-testid={`accept-${r.username}`}
                >
                  Accept
                </button>
                <button
                  type="button"
                  class="button button--small"
                  disabled={action.busy}
                  onClick={() => action.run(() => friendActions.decline(r.id), `Declined ${r.username}'s request.`)}
                  aria-label={`Decline friend request from ${r.username}`}
                  data-testid={`decline-${r.username}`}
                >
                  Decline
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <h3 class="subhead">
        Sent <span class="count" data-testid="outgoing-count">{outgoing.length}</span>
      </h3>
      {outgoing.length === 0 ? (
        <p class="empty" data-testid="outgoing-empty">
          No pending requests.
        </p>
      ) : (
        <ul class="rows" data-testid="outgoing-list">
          {outgoing.map((r) => (
            <li key={r.id} class="row" data-testid={`outgoing-${r.username}`}>
              <Avatar name={r.username} />
              <div class="row__main">
                <Link class="row__name" href={`/friends/${encodeURIComponent(r.username)}`}>
                  {r.username}
                </Link>
                <span class="row__meta">pending · sent {timeAgo(r.created_at)}</span>
              </div>
              <div class="row__actions">
                <button
                  type="button"
                  class="button button--small"
                  disabled={action.busy}
                  onClick={() => action.run(() => friendActions.cancel(r.id), `Request to ${r.username} cancelled.`)}
                  aria-label={`Cancel friend request to ${r.username}`}
                  data-testid={`cancel-${r.username}`}
                >
                  Cancel
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
