// Noise-reduction strength while live: the attenuation limit in dB sent to the
// server's denoiser (issue 5). The slider's left end is "off" (0 dB: nothing
// removed), its right end "full" (null: no limit), values between cap how much
// the denoiser may attenuate.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, errorMessage } from '../api.js';

const STEPS: (number | null)[] = [0, 3, 6, 9, 12, 18, 24, 30, 40, 50, 60, null];

/** The slider position for a configured limit (configs may use values between the steps). */
function nearestStep(v: number | null): number {
  if (v === null) return STEPS.length - 1;
  let best = 0;
  for (let i = 0; i < STEPS.length - 1; i++) if (Math.abs(STEPS[i]! - v) < Math.abs(STEPS[best]! - v)) best = i;
  return best;
}

export function strengthLabel(v: number | null): string {
  if (v === null) return 'Full';
  if (v === 0) return 'Off';
  return `${v} dB`;
}

export function DenoiseStrength({ initial, disabled }: { initial: number | null; disabled: boolean }) {
  const [index, setIndex] = useState(() => nearestStep(initial));
  const [error, setError] = useState<string | null>(null);
  const sent = useRef<number | null | undefined>(initial);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  const indexRef = useRef(index);
  indexRef.current = index;

  useEffect(() => () => {
    if (pending.current !== null) clearTimeout(pending.current);
  }, []);

  const apply = (value: number | null): void => {
    if (sent.current === value) return;
    sent.current = value;
    api.post('/api/stream/denoise/', { atten_lim_db: value }).then(
      () => setError(null),
      (err: unknown) => setError(errorMessage(err)),
    );
  };
  // Dragging sends at most every 100 ms, so listeners hear the change while the slider moves.
  const onInput = (i: number): void => {
    setIndex(i);
    if (pending.current !== null) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      apply(STEPS[indexRef.current]!);
    }, 100);
  };
  return (
    <div class="denoise-strength">
      <label>
        Noise reduction{' '}
        <input
          type="range"
          min={0}
          max={STEPS.length - 1}
          step={1}
          value={index}
          disabled={disabled}
          aria-valuetext={strengthLabel(STEPS[index]!)}
          onInput={(e) => onInput(Number((e.target as HTMLInputElement).value))}
          onChange={(e) => apply(STEPS[Number((e.target as HTMLInputElement).value)]!)}
        />{' '}
        <output data-testid="denoise-strength">{strengthLabel(STEPS[index]!)}</output>
      </label>
      {error && (
        <p role="alert" class="feedback feedback--error">
          {error}
        </p>
      )}
    </div>
  );
}
