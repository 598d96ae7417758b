// One person's page (/friends/:username): their status, and for friends the
// live stream and recordings sections that later features fill in.
//
// MOUNT POINTS (one import + one element each, inside the marked SectionCard; shown only to friends):
//   streaming:  import { ListenPanel } from '../stream/listen-panel.js';              → <ListenPanel username={username} />
//   recordings: import { RecordingsPanel } from '../recordings/recordings-panel.js'; → <RecordingsPanel owner={username} />
// Live state comes from the presence store: useFriendStatus(username) in web/src/presence.ts.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import type { Relation } from '../contract.js';
import { friendActions } from '../friends/friend-actions.js';
import { type Presence, StatusBadge, presenceOf } from '../friends/status-badge.js';
import { Avatar } from '../layout/avatar.js';
import { Feedback } from '../layout/feedback.js';
import { SectionCard } from '../layout/section-card.js';
import { usePresence } from '../presence.js';
import { Link } from '../router.js';
import { RecordingsPanel } from '../recordings/recordings-panel.js';
import { ListenPanel } from '../stream/listen-panel.js';
import { clockTime } from '../time-ago.js';
import { useAction } from '../use-action.js';

type Lookup = { state: 'loading' } | { state: 'found'; relation: Relation } | { state: 'missing' } | { state: 'error'; message: string };

export function FriendPage({ username, me }: { username: string; me: string }) {
  const p = usePresence();
  const action = useAction();
  const [lookup, setLookup] = useState<Lookup>({ state: 'loading' });
  const friend = p.friends.find((f) => f.username === username);
  const incoming = p.incoming.find((r) => r.username === username);
  const outgoing = p.outgoing.find((r) => r.username === username);

  useEffect(() => {
    document.title = `${username} · hushcast`;
    let live = true;
    setLookup({ state: 'loading' });
    api
      .get<{ user: { username: string; relation: Relation } }>(`/api/users/${encodeURIComponent(username)}`)
      .then(({ user }) => live && setLookup({ state: 'found', relation: user.relation }))
      .catch((err: unknown) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 404) setLookup({ state: 'missing' });
        else setLookup({ state: 'error', message: err instanceof Error ? err.message : String(err) });
      });
    return () => void (live = false);
  }, [username]);

  // The store is live (WebSocket); the lookup only tells "self" and "no such user" apart.
  // The store is live (WebSocket) and wins once loaded; the lookup tells "self" and "no such user" apart.
  let relation: Relation | null = null;
  if (username === me) relation = 'self';
  else if (friend) relation = 'friend';
  else if (incoming) relation = 'incoming';
  else if (outgoing) relation = 'outgoing';
  else if (lookup.state === 'found') relation = p.loaded ? 'none' : lookup.relation;
  const presence = presenceOf(friend);

  if (lookup.state === 'missing') {
    return (
      <main class="page page--narrow" id="main" data-testid="friend-page" data-relation="missing">
        <BackLink />
        <div class="card">
          <h1 class="page__title" id="main-heading" tabIndex={-1}>
            No user named “{username}”
          </h1>
          <p class="empty">Check the spelling, or ask them for their exact username.</p>
        </div>
      </main>
    );
  }

  return (
    <main class="page page--narrow" id="main" data-testid="friend-page" data-relation={relation ?? 'loading'}>
      <BackLink />
      <section class="card profile" aria-labelledby="main-heading">
        <Avatar name={username} size="large" />
        <div class="profile__main">
          <h1 class="profile__name" id="main-heading" tabIndex={-1}>
            {username}
          </h1>
          <div class="profile__status">
            {relation === 'friend' && <StatusBadge presence={presence} testid="friend-page-badge" />}
            <span class="profile__relation" data-testid="friend-page-relation">
              {describeRelation(relation, presence, friend?.started_at ?? null)}
            </span>
          </div>
        </div>
        <div class="profile__actions">
          {relation === 'none' && (
            <button
              type="button"
              class="button button--primary"
              disabled={action.busy}
              onClick={() => action.run(() => friendActions.sendRequest(username))}
              data-testid="friend-page-request"
            >
              Send friend request
            </button>
          )}
          {relation === 'incoming' && incoming && (
            <>
              <button
                type="button"
                class="button button--primary"
                disabled={action.busy}
                onClick={() => action.run(() => friendActions.accept(incoming.id))}
                data-testid="friend-page-accept"
              >
                Accept
              </button>
              <button
                type="button"
                class="button"
                disabled={action.busy}
                onClick={() => action.run(() => friendActions.decline(incoming.id))}
                data-testid="friend-page-decline"
              >
                Decline
              </button>
            </>
          )}
          {relation === 'outgoing' && outgoing && (
            <button
              type="button"
              class="button"
              disabled={action.busy}
              onClick={() => action.run(() => friendActions.cancel(outgoing.id))}
              data-testid="friend-page-cancel"
            >
              Cancel request
            </button>
          )}
        </div>
        <div class="profile__feedback">
          <Feedback message={action.message} error={action.error ?? (lookup.state === 'error' ? lookup.message : null)} testid="friend-page" />
        </div>
      </section>

      {relation === 'friend' && (
        <>
          <SectionCard title="Live" testid="live-section">
            <ListenPanel username={username} />
          </SectionCard>
          <SectionCard title="Recordings" testid="friend-recordings-section">
            <RecordingsPanel owner={username} />
          </SectionCard>
        </>
      )}
    </main>
  );
}

function BackLink() {
  return (
    <Link class="back" href="/" data-testid="back-home">
      <span aria-hidden="true">←</span> All friends
    </Link>
  );
}

function describeRelation(relation: Relation | null, presence: Presence, liveSince: string | null): string {
  switch (relation) {
    case 'self':
      return 'This is you.';
    case 'friend':
      if (presence === 'live') {
        return liveSince ? `Live since ${clockTime(liveSince)}` : 'Live now';
      }
      return presence === 'online' ? 'Online, not live right now' : 'Offline';
    case 'incoming':
      return 'Wants to be your friend.';
    case 'outgoing':
      return 'Friend request sent — waiting for an answer.';
    case 'none':
      return 'Not friends yet.';
    default:
      return 'Loading…';
  }
}
