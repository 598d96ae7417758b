// Who is signed in. The cookie is HttpOnly, so the app learns it from
// GET /api/auth/me at start and from the sign-in/up answers; the presence
// connection follows the session (started on sign-in, stopped on sign-out).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from './api.js';
import type { User } from './contract.js';
import { presence } from './presence.js';

export type SessionState =
  | { status: 'loading'; user: null }
  | { status: 'signed_out'; user: null; reason?: string }
  | { status: 'signed_in'; user: User };

let state: SessionState = { status: 'loading', user: null };
const listeners = new Set<(s: SessionState) => void>();

function setState(next: SessionState): void {
  state = next;
  if (next.status === 'signed_in') {
    presence.start(next.user.username, () => expire('Your session ended. Please sign in again.'));
  } else {
    presence.stop();
  }
  for (const l of [...listeners]) l(next);
}

function expire(reason: string): void {
  setState({ status: 'signed_out', user: null, reason });
}

export const session = {
  get: (): SessionState => state,
  subscribe(l: (s: SessionState) => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  /** Asks the server who we are (app start). */
  async load(): Promise<void> {
    try {
      const { user } = await api.get<{ user: User }>('/api/auth/me');
      setState({ status: 'signed_in', user });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        setState({ status: 'signed_out', user: null });
      } else {
        setState({ status: 'signed_out', user: null, reason: err instanceof Error ? err.message : String(err) });
      }
    }
  },
  async signIn(username: string, password: string): Promise<void> {
    const { user } = await api.post<{ user: User }>('/api/auth/signin', { username, password });
    setState({ status: 'signed_in', user });
  },
  async signUp(username: string, password: string): Promise<void> {
    const { user } = await api.post<{ user: User }>('/api/auth/signup', { username, password });
    setState({ status: 'signed_in', user });
  },
  async signOut(): Promise<void> {
    try {
      await api.post<void>('/api/auth/signout');
    } finally {
      // Even if the server call failed, this tab stops acting as signed in.
      setState({ status: 'signed_out', user: null });
    }
  },
};

export function useSession(): SessionState {
  const [s, set] = useState(state);
  useEffect(() => {
    set(session.get());
    return session.subscribe(set);
  }, []);
  return s;
}
