// A person's recordings (main page: your own, with delete; friend page: theirs):
// date, duration, size; play with a waveform and seek; download (as recorded, or as WAV). A stream that
// just ended appears at the top without a reload (recording_added).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Recording } from '../contract.js';
import { Feedback } from '../layout/feedback.js';
import { useAction } from '../use-action.js';
import { formatDate, formatDuration, formatSize } from './format.js';
import { RecordingPlayer } from './recording-player.js';
import './recordings.css';
import { useRecordings } from './use-recordings.js';

export function RecordingsPanel({ owner, own = false }: { owner: string; own?: boolean }) {
  const st = useRecordings(owner);
  const [open, setOpen] = useState<number | null>(null);

  return (
    <div class="recordings" data-testid="recordings-panel" data-owner={owner}>
      {st.error && <p class="feedback feedback--error" role="alert" data-testid="recordings-error">{st.error}</p>}
      {!st.loaded && !st.error && <p class="empty" data-testid="recordings-loading">Loading recordings…</p>}
      {st.loaded && st.recordings.length === 0 && (
        <p class="empty" data-testid="recordings-empty">
          {own ? 'No recordings yet. Every stream you make is recorded here.' : `${owner} has no recordings yet.`}
        </p>
      )}
      {st.recordings.length > 0 && (
        <ul class="rows recordings__list" data-testid="recordings-list" aria-live="polite">
          {st.recordings.map((r) => (
            <RecordingRow
              key={r.id}
              recording={r}
              own={own}
              fresh={st.fresh.has(r.id)}
              open={open === r.id}
              onToggle={() => setOpen(open === r.id ? null : r.id)}
              onDeleted={() => {
                if (open === r.id) setOpen(null);
                st.removed(r.id);
              }}
            />
          ))}
        </ul>
      )}
      {st.hasMore && (
        <button type="button" class="button button--quiet button--block" disabled={st.loadingMore} onClick={() => void st.loadMore()} data-testid="recordings-more">
          {st.loadingMore ? 'Loading…' : 'Show older recordings'}
        </button>
      )}
    </div>
  );
}

interface RowProps {
  recording: Recording;
  own: boolean;
  fresh: boolean;
  open: boolean;
  onToggle(): void;
  onDeleted(): void;
}

function RecordingRow({ recording: r, own, fresh, open, onToggle, onDeleted }: RowProps) {
  const action = useAction();
  const [confirming, setConfirming] = useState(false);
  const label = formatDate(r.started_at);

  const remove = () =>
    action.run(async () => {
      const res = await api.del<{ message?: string }>(`/api/recordings/${r.id}`);
      onDeleted();
      return res;
    });

  return (
    <li class={`recording${fresh ? ' recording--fresh' : ''}`} data-testid="recording-item" data-recording-id={r.id} data-status={r.status}>
      <div class="row recording__row">
        <div class="row__main">
          <time class="row__name" dateTime={r.started_at} data-testid="recording-date">
            {label}
          </time>
          {fresh && <span class="pill pill--accent">new</span>}
          {r.status === 'recovered' && (
            <span class="pill" title="The server stopped unexpectedly during this stream; everything written before that was kept.">recovered</span>
          )}
          <span class="row__meta">
            <span data-testid="recording-duration">{formatDuration(r.duration_ms)}</span> · <span data-testid="recording-size">{formatSize(r.size_bytes)}</span>
            {r.engine !== 'unknown' && <> · denoise: {r.engine}</>}
          </span>
        </div>
        <div class="row__actions">
          <button
            type="button"
            class="button button--small"
            aria-expanded={open}
            aria-label={`${open ? 'Close player for' : 'Play'} recording of ${label}`}
            onClick={onToggle}
            data-testid="recording-play"
          >
            {open ? 'Close' : 'Play'}
          </button>
          <a class="button button--small button--quiet" href={`/api/recordings/${r.id}/audio?download=1`} download aria-label={`Download recording of ${label}`} data-testid="recording-download">
            Download
          </a>
          <a
            class="button button--small button--quiet"
            href={`/api/recordings/${r.id}/audio?download=1&format=wav`}
            download
            title="Uncompressed WAV, for audio editors (decoded on the server as it downloads)"
            aria-label={`Download recording of ${label} as WAV`}
            data-testid="recording-download-wav"
          >
            WAV
          </a>
          {r.has_raw && (
            <a
              class="button button--small button--quiet"
              href={`/api/recordings/${r.id}/audio?raw=1&download=1`}
              download
              title="The microphone input before noise removal, for comparison"
              data-testid="recording-download-raw"
            >
              Original
            </a>
          )}
          {own &&
            (confirming ? (
              <>
                <button type="button" class="button button--small button--danger" disabled={action.busy} onClick={() => void remove()} data-testid="recording-delete-confirm">
                  {action.busy ? 'Deleting…' : 'Delete for good'}
                </button>
                <button type="button" class="button button--small button--quiet" disabled={action.busy} onClick={() => setConfirming(false)} data-testid="recording-delete-cancel">
                  Keep
                </button>
              </>
            ) : (
              <button type="button" class="button button--small button--quiet" aria-label={`Delete recording of ${label}`} onClick={() => setConfirming(true)} data-testid="recording-delete">
                Delete
              </button>
            ))}
        </div>
      </div>
      <Feedback message={null} error={action.error} testid="recording" />
      {open && <RecordingPlayer recording={r} />}
    </li>
  );
}
