// Main page: go live. Start/Stop, a timer from the server's started_at, the
// microphone level, the listener count, the denoise engine and its strength.
import { useEffect, useState } from 'preact/hooks';
import { api, errorMessage } from '../api.js';
import { presence, usePresence, useServerEvent } from '../presence.js';
import type { Broadcast, BroadcastSnapshot } from './broadcast.js';
import { DenoiseStrength } from './denoise-strength.js';
import { useElapsed } from './elapsed.js';
import { LevelMeter } from './level-meter.js';
import { tabBroadcast } from './tab-broadcast.js';
import './stream.css';
import type { User } from '../contract.js';

interface Health {
  denoise: { engine: string; fallback_reason: string | null };
}

const ENGINE_NAMES: Record<string, string> = {
  dfn3: 'DeepFilterNet3',
  rnnoise: 'RNNoise',
  none: 'none (pass-through)',
};

export function engineLabel(engine: string | null | undefined): string {
  if (!engine) return 'unknown';
  return ENGINE_NAMES[engine] ?? engine;
}

function useBroadcast(b: Broadcast): BroadcastSnapshot {
  const [snap, setSnap] = useState(b.getSnapshot());
  useEffect(() => b.subscribe(setSnap), [b]);
  return snap;
}

export function BroadcastPanel(_props: { user?: User }) {
  const broadcast = tabBroadcast;
  const snap = useBroadcast(broadcast);
  const { me } = usePresence();
  const [health, setHealth] = useState<Health | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [otherTabError, setOtherTabError] = useState<string | null>(null);

  useEffect(() => {
    api.get<Health>('/api/health').then(setHealth, (err: unknown) => console.error('health check failed', err));
  }, []);
  useServerEvent('recording_stopped', (ev) => setNotice(ev.message));

  const active = snap.state === 'connecting' || snap.state === 'live';
  const busy = snap.state === 'opening-mic' || snap.state === 'starting' || snap.state === 'stopping';
  const startedAt = active ? (snap.stream?.started_at ?? null) : null;
  const elapsed = useElapsed(startedAt);
  const liveElsewhere = !active && !busy && me?.is_streaming === true;
  const engine = active ? snap.stream?.engine : (me?.engine ?? health?.denoise.engine);

  const stopElsewhere = (): void => {
    setOtherTabError(null);
    api.post('/api/stream/stop/').then(
      () => void presence.refresh(),
      (err: unknown) => setOtherTabError(errorMessage(err)),
    );
  };

  return (
    <section class="broadcast-panel" aria-label="Your live stream" data-state={snap.state}>
      <p>
        Noise removal: <strong data-testid="engine">{engineLabel(engine)}</strong>
        {health?.denoise.fallback_reason && !active && <small> ({health.denoise.fallback_reason})</small>}
      </p>
      {active || busy ? (
        <button type="button" class="button button--danger" data-testid="stream-stop" onClick={() => void broadcast.stop()} disabled={busy}>
          {snap.state === 'stopping' ? 'Stopping…' : snap.state === 'opening-mic' ? 'Opening microphone…' : snap.state === 'starting' ? 'Starting…' : 'Stop streaming'}
        </button>
      ) : liveElsewhere ? (
        <p>
          You are live in another tab.{' '}
          <button type="button" class="button button--small" data-testid="stream-stop-elsewhere" onClick={stopElsewhere}>
            Stop that stream
          </button>
          {otherTabError && <span role="alert"> {otherTabError}</span>}
        </p>
      ) : (
        <button type="button" class="button button--live" data-testid="stream-start" onClick={() => void broadcast.start()}>
          Start streaming
        </button>
      )}
      {active && (
        <div class="live-info">
          <div class="stream-row">
            <span class={`badge badge--${snap.state === 'live' ? 'live' : 'online'}`} aria-live="polite" data-testid="stream-state">
              <span class="badge__dot" aria-hidden="true" />
              {snap.state === 'live' ? 'Live' : 'Connecting…'}
            </span>
            <time class="stream-stat" data-testid="stream-timer">{elapsed ?? '00:00'}</time>
            <span class="stream-stat" data-testid="listener-count">
              {me?.listeners ?? 0} {(me?.listeners ?? 0) === 1 ? 'listener' : 'listeners'}
            </span>
          </div>
          <div class="stream-row">
            <span class="stream-stat">Mic</span>
            <LevelMeter stream={broadcast.microphone} />
          </div>
          <div class="stream-row">
            <DenoiseStrength initial={snap.stream?.atten_lim_db ?? null} disabled={snap.state !== 'live' && snap.state !== 'connecting'} />
          </div>
        </div>
      )}
      {snap.error && (
        <p role="alert" class="feedback feedback--error" data-testid="stream-error">
          {snap.error}
        </p>
      )}
      {notice && (
        <p role="status" class="feedback feedback--info" data-testid="stream-notice">
          {notice}
        </p>
      )}
    </section>
  );
}

export default BroadcastPanel;
