// Top bar: brand, live-update state, who is signed in, sign out.
import type { User } from '../contract.js';
import { usePresence } from '../presence.js';
import { Link } from '../router.js';
import { session } from '../session.js';
import { useAction } from '../use-action.js';
import { Avatar } from './avatar.js';

const CONNECTION_TEXT = {
  idle: 'Offline',
  connecting: 'Connecting…',
  open: 'Live updates',
  down: 'Reconnecting…',
} as const;

export function AppHeader({ user }: { user: User }) {
  const { connection } = usePresence();
  const signOut = useAction();
  return (
    <header class="topbar">
      <div class="topbar__inner">
        <Link class="brand" href="/" aria-label="hushcast home">
          <BrandMark />
          <span class="brand__name">hushcast</span>
        </Link>
        <div class="topbar__right">
          <span
            class={`conn conn--${connection}`}
            data-testid="connection-status"
            data-state={connection}
            title={connection === 'down' ? 'Checking for updates every few seconds until the connection is back' : undefined}
          >
            <span class="conn__dot" aria-hidden="true" />
            <span class="conn__text">{CONNECTION_TEXT[connection]}</span>
          </span>
          <span class="me" data-testid="current-user">
            <Avatar name={user.username} />
            <span class="me__name">{user.username}</span>
          </span>
          <button
            type="button"
            class="button button--quiet button--small"
            disabled={signOut.busy}
            onClick={() => signOut.run(() => session.signOut())}
            data-testid="sign-out"
          >
            Sign out
          </button>
        </div>
      </div>
      {signOut.error && (
        <p class="feedback feedback--error topbar__error" role="alert">
          {signOut.error}
        </p>
      )}
    </header>
  );
}

export function BrandMark() {
  // Three bars of a level meter, the middle one quieted: "live audio, noise removed".
  return (
    <svg class="brand__mark" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
      <rect x="3" y="7" width="4" height="10" rx="2" />
      <rect x="10" y="10" width="4" height="4" rx="2" opacity="0.55" />
      <rect x="17" y="4" width="4" height="16" rx="2" />
    </svg>
  );
}
