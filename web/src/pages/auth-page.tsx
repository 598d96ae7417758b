// Sign in and sign up on one page; /signup and /signin pick the mode.
import { useEffect, useRef, useState } from 'preact/hooks';
import { BrandMark } from '../layout/app-header.js';
import { Feedback } from '../layout/feedback.js';
import { Link } from '../router.js';
import { session } from '../session.js';
import { useAction } from '../use-action.js';

const USERNAME = /^[a-z0-9_]{3,30}$/i;

export function AuthPage({ mode, notice }: { mode: 'signin' | 'signup'; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [localError, setLocalError] = useState<string | null>(null);
  const action = useAction();
  const userRef = useRef<HTMLInputElement>(null);
  const signup = mode === 'signup';

  useEffect(() => {
    document.title = signup ? 'Create account · hushcast' : 'Sign in · hushcast';
    action.clear();
    setLocalError(null);
    userRef.current?.focus();
  }, [mode]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const name = username.trim();
    if (signup && !USERNAME.test(name)) {
      action.clear();
      setLocalError('Choose a username of 3–30 characters: letters, digits and underscores.');
      return;
    }
    if (signup && password.length < 8) {
      action.clear();
      setLocalError('Choose a password of at least 8 characters.');
      return;
    }
    if (!name || !password) {
      action.clear();
      setLocalError('Enter your username and password.');
      return;
    }
    setLocalError(null);
    await action.run(() => (signup ? session.signUp(name, password) : session.signIn(name, password)));
  };

  const error = localError ?? action.error;
  return (
    <main class="auth" id="main">
      <div class="auth__panel">
        <div class="auth__brand">
          <BrandMark />
          <span class="brand__name">hushcast</span>
        </div>
        <p class="auth__tagline">Go live to your friends — the background noise stays home.</p>
        <nav class="segmented" aria-label="Account">
          <Link href="/signin" class="segmented__item" aria-current={!signup ? 'page' : undefined} data-testid="goto-signin">
            Sign in
          </Link>
          <Link href="/signup" class="segmented__item" aria-current={signup ? 'page' : undefined} data-testid="goto-signup">
            Create account
          </Link>
        </nav>
        <h1 class="auth__title" id="main-heading" tabIndex={-1}>
          {signup ? 'Create your account' : 'Welcome back'}
        </h1>
        {notice && !error && (
          <p class="feedback feedback--info" role="status" data-testid="auth-notice">
            {notice}
          </p>
        )}
        <form class="form" onSubmit={submit} noValidate data-testid="auth-form" data-mode={mode}>
          <div class="field">
            <label class="field__label" for="auth-username">
              Username
            </label>
            <input
              ref={userRef}
              id="auth-username"
              class="input"
              name="username"
              autocomplete="username"
              autocapitalize="none"
              spellcheck={false}
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={signup ? 'auth-username-hint' : undefined}
              data-testid="auth-username"
            />
            {signup && (
              <p class="field__hint" id="auth-username-hint">
                3–30 characters: letters, digits, underscores. Friends find you by it.
              </p>
            )}
          </div>
          <div class="field">
            <label class="field__label" for="auth-password">
              Password
            </label>
            <input
              id="auth-password"
              class="input"
              type="password"
              name="password"
              autocomplete={signup ? 'new-password' : 'current-password'}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={signup ? 'auth-password-hint' : undefined}
              data-testid="auth-password"
            />
            {signup && (
              <p class="field__hint" id="auth-password-hint">
                At least 8 characters.
              </p>
            )}
          </div>
          <Feedback message={null} error={error} testid="auth" />
          <button class="button button--primary button--block" type="submit" disabled={action.busy} data-testid="auth-submit">
            {action.busy ? (signup ? 'Creating account…' : 'Signing in…') : signup ? 'Create account' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
