// Plays one recording: an <audio> element streaming the file with Range
// requests (seeking fetches only what is needed), a waveform drawn by
// wavesurfer.js from the server's peaks (no full download, however long the
// recording), click-on-waveform and slider seeking, and time read-out.
import { useEffect, useRef, useState } from 'preact/hooks';
import WaveSurfer from 'wavesurfer.js';
import { api, errorMessage } from '../api.js';
import type { Recording } from '../contract.js';
import { formatDuration } from './format.js';

interface Peaks {
  duration_ms: number;
  sample_rate: number;
  peaks: number[];
}

const MAX_BUCKETS = 4000;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function RecordingPlayer({ recording, autoPlay = true }: { recording: Recording; autoPlay?: boolean }) {
  const waveform = useRef<HTMLDivElement>(null);
  const audio = useRef<HTMLAudioElement>(null);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(recording.duration_ms / 1000);
  const [playing, setPlaying] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waveError, setWaveError] = useState<string | null>(null);
  const src = `/api/recordings/${recording.id}/audio`;

  useEffect(() => {
    const el = audio.current!;
    const box = waveform.current!;
    const ctrl = new AbortController();
    let ws: WaveSurfer | null = null;
    const buckets = Math.min(MAX_BUCKETS, Math.max(100, Math.round(box.clientWidth || 600)));
    api
      .get<Peaks>(`/api/recordings/${recording.id}/peaks?buckets=${buckets}`, ctrl.signal)
      .then((p) => {
        if (ctrl.signal.aborted) return;
        ws = WaveSurfer.create({
          container: box,
          media: el,
          peaks: [p.peaks.length > 0 ? p.peaks : [0]],
          duration: Math.max(0.001, p.duration_ms / 1000),
          height: 64,
          waveColor: cssVar('--ink-3', '#8a8e99'),
          progressColor: cssVar('--accent', '#5746d6'),
          cursorColor: cssVar('--ink', '#17191f'),
          barWidth: 2,
          barGap: 1,
          barRadius: 2,
          normalize: true,
        });
      })
      .catch((err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        // Playback does not need the waveform: say so and keep the player.
        setWaveError(`Waveform unavailable: ${errorMessage(err)}`);
      });
    return () => {
      ctrl.abort();
      ws?.destroy();
      el.pause();
    };
  }, [recording.id]);

  useEffect(() => {
    const el = audio.current!;
    const onTime = () => setTime(el.currentTime);
    const onMeta = () => Number.isFinite(el.duration) && el.duration > 0 && setDuration(el.duration);
    const onPlay = () => setPlaying(true);
    const onPause = () => setPlaying(false);
    const onError = () => setError(`This recording cannot be played (${el.error?.message || `media error ${el.error?.code ?? ''}`}).`);
    const events: Array<[string, () => void]> = [
      ['timeupdate', onTime],
      ['seeked', onTime],
      ['loadedmetadata', onMeta],
      ['durationchange', onMeta],
      ['play', onPlay],
      ['pause', onPause],
      ['ended', onPause],
      ['error', onError],
    ];
    for (const [e, f] of events) el.addEventListener(e, f);
    if (autoPlay) {
      el.play().catch((err: unknown) => {
        // Autoplay refused (no recent click): the Play button takes the gesture.
        if (!(err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'AbortError'))) setError(errorMessage(err));
      });
    }
    return () => {
      for (const [e, f] of events) el.removeEventListener(e, f);
    };
  }, [recording.id, autoPlay]);

  const toggle = () => {
    const el = audio.current!;
    if (el.paused) el.play().catch((err: unknown) => setError(errorMessage(err)));
    else el.pause();
  };

  return (
    <div class="rec-player" data-testid="recording-player" data-recording-id={recording.id}>
      <audio ref={audio} src={src} preload="metadata" data-testid="recording-audio" />
      <div class="rec-player__wave" ref={waveform} data-testid="recording-waveform" aria-hidden="true" />
      <div class="rec-player__controls">
        <button type="button" class="button button--small button--primary" onClick={toggle} data-testid="recording-toggle" aria-label={playing ? 'Pause' : 'Play'}>
          {playing ? 'Pause' : 'Play'}
        </button>
        <input
          class="rec-player__seek"
          type="range"
          min={0}
          max={duration || 0}
          step={0.01}
          value={time}
          aria-label="Seek"
          aria-valuetext={`${formatDuration(time * 1000)} of ${formatDuration(duration * 1000)}`}
          onInput={(e) => {
            audio.current!.currentTime = Number((e.target as HTMLInputElement).value);
          }}
          data-testid="recording-seek"
        />
        <span class="rec-player__time" data-testid="recording-time">
          {formatDuration(time * 1000)} / {formatDuration(duration * 1000)}
        </span>
      </div>
      {(error || waveError) && (
        <p class={`feedback ${error ? 'feedback--error' : 'feedback--info'}`} role={error ? 'alert' : 'status'} data-testid="recording-player-error">
          {error ?? waveError}
        </p>
      )}
    </div>
  );
}
