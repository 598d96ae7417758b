// One owner's recordings as the browser sees them: the first page from
// GET /api/recordings/?owner=…, "load more" pages, new and deleted recordings pushed by the
// server (recording_added, recording_deleted) and a refetch after the presence socket reconnects
// (events sent while it was down are lost).
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../api.js';
import type { Recording } from '../contract.js';
import { usePresence, useServerEvent } from '../presence.js';

export const PAGE_SIZE = 20;

interface Page {
  recordings: Recording[];
  next_before: number | null;
}

export interface RecordingsState {
  loaded: boolean;
  recordings: Recording[];
  /** Ids that arrived in real time (highlighted until the page is left). */
  fresh: Set<number>;
  hasMore: boolean;
  loadingMore: boolean;
  error: string | null;
  loadMore(): Promise<void>;
  removed(id: number): void;
}

function pageUrl(owner: string, before: number | null): string {
  const q = new URLSearchParams({ owner, limit: String(PAGE_SIZE) });
  if (before !== null) q.set('before', String(before));
  return `/api/recordings/?${q}`;
}

/** Newest first (as the server sorts), no duplicates. */
function merge(a: Recording[], b: Recording[]): Recording[] {
  const byId = new Map<number, Recording>();
  for (const r of [...a, ...b]) byId.set(r.id, r);
  return [...byId.values()].sort((x, y) => (x.started_at === y.started_at ? y.id - x.id : x.started_at < y.started_at ? 1 : -1));
}

export function useRecordings(owner: string): RecordingsState {
  const [recordings, setRecordings] = useState<Recording[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const epoch = useRef(0);
  const { connection } = usePresence();
  const wasDown = useRef(false);

  const loadedRef = useRef(false);

  const loadFirst = useCallback(async () => {
    const mine = ++epoch.current;
    try {
      const page = await api.get<Page>(pageUrl(owner, null));
      if (mine !== epoch.current) return;
      if (loadedRef.current) {
        // A refetch after reconnecting: add what was missed, keep the pages already loaded.
        setRecordings((prev) => merge(page.recordings, prev));
      } else {
        setRecordings(page.recordings);
        setNextBefore(page.next_before);
      }
      loadedRef.current = true;
      setLoaded(true);
      setError(null);
    } catch (err) {
      if (mine === epoch.current) setError(errorMessage(err));
    }
  }, [owner]);

  useEffect(() => {
    loadedRef.current = false;
    setLoaded(false);
    setRecordings([]);
    setFresh(new Set());
    setNextBefore(null);
    void loadFirst();
  }, [loadFirst]);

  useEffect(() => {
    if (connection === 'down') wasDown.current = true;
    if (connection === 'open' && wasDown.current) {
      wasDown.current = false;
      void loadFirst();
    }
  }, [connection, loadFirst]);

  useServerEvent('recording_added', (ev) => {
    if (ev.recording.owner !== owner) return;
    setRecordings((prev) => merge([ev.recording], prev));
    setFresh((prev) => new Set(prev).add(ev.recording.id));
  });

  // Ids are unique across owners, so no owner check is needed.
  useServerEvent('recording_deleted', (ev) => {
    setRecordings((prev) => (prev.some((r) => r.id === ev.id) ? prev.filter((r) => r.id !== ev.id) : prev));
  });

  const loadMore = useCallback(async () => {
    if (nextBefore === null) return;
    setLoadingMore(true);
    try {
      const page = await api.get<Page>(pageUrl(owner, nextBefore));
      setRecordings((prev) => merge(prev, page.recordings));
      setNextBefore(page.next_before);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setLoadingMore(false);
    }
  }, [owner, nextBefore]);

  const removed = useCallback((id: number) => setRecordings((prev) => prev.filter((r) => r.id !== id)), []);

  return { loaded, recordings, fresh, hasMore: nextBefore !== null, loadingMore, error, loadMore, removed };
}
