// Friend page: listen to the friend's live stream. The player exists only
// while the friend is live; Listen is a click (a user gesture), so the
// browser's autoplay policy lets the audio start, and if it still refuses a
// "Play" button takes the gesture.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useFriendStatus } from '../presence.js';
import { useElapsed } from './elapsed.js';
import { Listen, type ListenSnapshot } from './listen.js';
import './stream.css';

const CONNECTION_LABELS: Record<string, string> = {
  new: 'starting',
  connecting: 'connecting…',
  connected: 'connected',
  disconnected: 'reconnecting…',
  failed: 'failed',
  closed: 'closed',
};

export function ListenPanel({ username }: { username: string }) {
  const friend = useFriendStatus(username);
  const live = friend?.is_streaming === true;
  const listen = useMemo(() => new Listen(username), [username]);
  const [snap, setSnap] = useState<ListenSnapshot>(listen.getSnapshot());
  const [volume, setVolume] = useState(1);
  const [blocked, setBlocked] = useState(false);
  const audio = useRef<HTMLAudioElement>(null);
  const elapsed = useElapsed(live ? (friend?.started_at ?? null) : null);

  useEffect(() => {
    setSnap(listen.getSnapshot());
    const off = listen.subscribe(setSnap);
    return () => {
      off();
      void listen.stop();
    };
  }, [listen]);

  useEffect(() => {
    if (!live) listen.streamEnded();
  }, [live, listen]);

  useEffect(() => {
    const el = audio.current;
    if (!el) return;
    if (el.srcObject !== snap.stream) el.srcObject = snap.stream;
    if (!snap.stream) return;
    el.play().then(
      () => setBlocked(false),
      (err: unknown) => {
        if (err instanceof DOMException && err.name === 'NotAllowedError') setBlocked(true);
        else console.error('listen: playback failed', err);
      },
    );
  }, [snap.stream]);

  useEffect(() => {
    if (audio.current) audio.current.volume = volume;
  }, [volume, snap.stream]);

  if (!friend) return null;
  if (!live) {
    return (
      <section class="listen-panel" aria-label={`${username}'s live stream`} data-state="offline">
        <p class="empty">{username} is not live right now.</p>
        {snap.error && <p role="alert" class="feedback feedback--error" data-testid="listen-error">{snap.error}</p>}
      </section>
    );
  }
  const active = snap.state === 'connecting' || snap.state === 'listening';
  return (
    <section class="listen-panel" aria-label={`${username}'s live stream`} data-state={snap.state}>
      <div class="stream-row">
        <span class="badge badge--live">
          <span class="badge__dot" aria-hidden="true" />
          Live
        </span>
        <time class="stream-stat" data-testid="live-duration">{elapsed ?? '00:00'}</time>
      </div>
      {active ? (
        <div class="player stream-row">
          <button type="button" class="button" data-testid="listen-stop" onClick={() => void listen.stop()}>
            Stop listening
          </button>
          <span class="stream-stat">
            Connection: <span data-testid="connection-state">{CONNECTION_LABELS[snap.connection] ?? snap.connection}</span>
          </span>
          <label class="stream-volume">
            Volume
            <input
              type="range"
              min={0}
              max={1}
              step={0.05}
              value={volume}
              onInput={(e) => setVolume(Number((e.target as HTMLInputElement).value))}
            />
          </label>
          {blocked && (
            <button type="button" class="button button--primary" data-testid="listen-play" onClick={() => void audio.current?.play().then(() => setBlocked(false))}>
              Play (the browser blocked autoplay)
            </button>
          )}
          <audio ref={audio} data-testid="stream-player" autoplay />
        </div>
      ) : (
        <div class="stream-row">
          <button type="button" class="button button--live" data-testid="listen-start" onClick={() => void listen.start()}>
            Listen
          </button>
        </div>
      )}
      {snap.error && <p role="alert" class="feedback feedback--error" data-testid="listen-error">{snap.error}</p>}
    </section>
  );
}

export default ListenPanel;
