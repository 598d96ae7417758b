// Live duration counted from the server's started_at, so every tab (and the
// friends' pages) shows the same clock: 00:01, 00:02 … 59:59, 1:00:00.
import { useEffect, useState } from 'preact/hooks';

export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** Re-renders every second while `startedAt` is set; returns the formatted duration or null. */
export function useElapsed(startedAt: string | null): string | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!startedAt) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [startedAt]);
  if (!startedAt) return null;
  const started = Date.parse(startedAt);
  return Number.isFinite(started) ? formatElapsed(now - started) : null;
}
