// The app shell: waits for the session, then routes.
//   signed out: /signup → create account, anything else → sign in (the URL is kept, so a deep link works after signing in)
//   signed in:  /  → home, /friends/:username → friend page, /signin|/signup → home
import { useEffect, useRef } from 'preact/hooks';
import { AppHeader } from './layout/app-header.js';
import { AuthPage } from './pages/auth-page.js';
import { FriendPage } from './pages/friend-page.js';
import { HomePage } from './pages/home-page.js';
import { NotFoundPage } from './pages/not-found-page.js';
import { matchPath, navigate, usePath } from './router.js';
import { useSession } from './session.js';

export function App() {
  const s = useSession();
  const path = usePath();
  useMoveFocusOnNavigation(path);

  useEffect(() => {
    if (s.status === 'signed_in' && (path === '/signin' || path === '/signup')) navigate('/', { replace: true });
  }, [s.status, path]);

  if (s.status === 'loading') {
    return (
      <div class="splash" aria-busy="true" data-testid="loading">
        Loading…
      </div>
    );
  }
  if (s.status === 'signed_out') {
    return <AuthPage mode={path === '/signup' ? 'signup' : 'signin'} notice={s.reason} />;
  }

  const friend = matchPath('/friends/:username', path);
  let page;
  if (path === '/' || path === '/signin' || path === '/signup') page = <HomePage user={s.user} />;
  else if (friend) page = <FriendPage key={friend.username} username={friend.username.toLowerCase()} me={s.user.username} />;
  else page = <NotFoundPage />;

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader user={s.user} />
      {page}
    </>
  );
}

/** After an in-app navigation, focus the new page's heading so screen readers and keyboard users start there. */
function useMoveFocusOnNavigation(path: string): void {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main-heading')?.focus({ preventScroll: true });
  }, [path]);
}
