// The main page: your stream, friends with live badges, requests, add a friend, your recordings.
//
// MOUNT POINTS for later features (one import + one element each, inside the marked SectionCard):
//   streaming:  import { BroadcastPanel } from '../stream/broadcast-panel.js';      → <BroadcastPanel user={user} />
//   recordings: import { RecordingsPanel } from '../recordings/recordings-panel.js'; → <RecordingsPanel owner={user.username} own />
// A SectionCard with no children renders nothing, so the page is complete without them.
import { useEffect } from 'preact/hooks';
import type { User } from '../contract.js';
import { AddFriendForm } from '../friends/add-friend-form.js';
import { FriendRequests } from '../friends/friend-requests.js';
import { FriendsList } from '../friends/friends-list.js';
import { SectionCard } from '../layout/section-card.js';
import { usePresence } from '../presence.js';
import { RecordingsPanel } from '../recordings/recordings-panel.js';
import { BroadcastPanel } from '../stream/broadcast-panel.js';

export function HomePage({ user }: { user: User }) {
  const p = usePresence();
  useEffect(() => {
    document.title = 'hushcast';
  }, []);
  const online = p.friends.filter((f) => f.online || f.is_streaming).length;
  const pending = p.incoming.length;

  return (
    <main class="page" id="main" data-testid="home-page">
      <h1 class="page__title" id="main-heading" tabIndex={-1}>
        Hi, {user.username}
      </h1>
      <div class="home-grid">
        <div class="home-grid__main">
          <SectionCard title="Your stream" testid="stream-section">
            <BroadcastPanel user={user} />
          </SectionCard>

          <SectionCard
            title="Friends"
            testid="friends-section"
            aside={
              p.loaded && p.friends.length > 0 ? (
                <span class="card__aside" data-testid="friends-online-count">
                  {online} of {p.friends.length} online
                </span>
              ) : undefined
            }
          >
            <FriendsList friends={p.friends} loaded={p.loaded} />
          </SectionCard>

          <SectionCard title="Recordings" testid="recordings-section">
            <RecordingsPanel owner={user.username} own />
          </SectionCard>
        </div>

        <div class="home-grid__side">
          <SectionCard title="Add a friend" testid="add-friend-section">
            <AddFriendForm />
          </SectionCard>
          <SectionCard
            title="Requests"
            testid="requests-section"
            aside={pending > 0 ? <span class="pill pill--accent" data-testid="requests-pending">{pending} new</span> : undefined}
          >
            <FriendRequests incoming={p.incoming} outgoing={p.outgoing} />
          </SectionCard>
        </div>
      </div>
    </main>
  );
}
