// Runs one user action at a time and keeps what the UI shows about it: busy
// while in flight, the server's `message` on success, `error.message` on failure.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from './api.js';

const SUCCESS_VISIBLE_MS = 8000;

export interface ActionState {
  busy: boolean;
  message: string | null;
  error: string | null;
  /** Runs `fn`; its resolved `{message}` (if any) becomes the success text. Returns whether it succeeded. */
  run: (fn: () => Promise<{ message?: string } | void>, fallbackMessage?: string) => Promise<boolean>;
  clear: () => void;
}

export function useAction(): ActionState {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => () => void (mounted.current = false), []);
  // A success note is news, not state: it fades after a while (errors stay until the next try).
  useEffect(() => {
    if (!message) return;
    const t = setTimeout(() => setMessage(null), SUCCESS_VISIBLE_MS);
    return () => clearTimeout(t);
  }, [message]);

  const run = useCallback<ActionState['run']>(async (fn, fallbackMessage) => {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const res = await fn();
      if (mounted.current) setMessage((res && res.message) || fallbackMessage || null);
      return true;
    } catch (err) {
      if (mounted.current) setError(errorMessage(err));
      return false;
    } finally {
      if (mounted.current) setBusy(false);
    }
  }, []);
  const clear = useCallback(() => {
    setMessage(null);
    setError(null);
  }, []);
  return { busy, message, error, run, clear };
}
