// Live input level of the microphone: an AnalyserNode read once per animation
// frame, drawn by writing the bar's style directly (no re-render per frame).
import { useEffect, useRef } from 'preact/hooks';

/** -60 dBFS (silence floor of the meter) … 0 dBFS. */
const FLOOR_DB = -60;

export function levelToFraction(rms: number): number {
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
}

export function LevelMeter({ stream }: { stream: MediaStream | null }) {
  const bar = useRef<HTMLDivElement>(null);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!stream || stream.getAudioTracks().length === 0) return;
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(stream);
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let raf = 0;
    const draw = (): void => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (let i = 0; i < buf.length; i++) sum += buf[i]! * buf[i]!;
      const fraction = levelToFraction(Math.sqrt(sum / buf.length));
      if (bar.current) bar.current.style.width = `${(fraction * 100).toFixed(1)}%`;
      if (box.current) box.current.dataset.level = fraction.toFixed(3);
      raf = requestAnimationFrame(draw);
    };
    raf = requestAnimationFrame(draw);
    return () => {
      cancelAnimationFrame(raf);
      source.disconnect();
      void ctx.close();
    };
  }, [stream]);
  return (
    <div
      ref={box}
      class="level-meter"
      role="meter"
      aria-label="Microphone level"
      data-level="0"
      style={{ width: '12rem', height: '0.6rem', background: '#ddd', borderRadius: '0.3rem', overflow: 'hidden' }}
    >
      <div ref={bar} style={{ width: '0%', height: '100%', background: '#2a9d55', transition: 'width 60ms linear' }} />
    </div>
  );
}
