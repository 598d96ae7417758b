// Fixed-bin histogram of milliseconds: recording a value allocates nothing,
// percentiles are read when stats are asked for.
export class LatencyHistogram {
  private readonly bins: Uint32Array;
  private count = 0;
  private overflow = 0;

  constructor(
    readonly binMs = 0.25,
    readonly maxMs = 500,
  ) {
    this.bins = new Uint32Array(Math.ceil(maxMs / binMs));
  }

  record(ms: number): void {
    if (!(ms >= 0)) return;
    const i = Math.floor(ms / this.binMs);
    if (i >= this.bins.length) this.overflow++;
    else this.bins[i]!++;
    this.count++;
  }

  /** p in [0, 100]; the upper edge of the bin holding that rank (NaN when empty). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return (i + 1) * this.binMs;
    }
    return Infinity;
  }

  get samples(): number {
    return this.count;
  }

  reset(): void {
    this.bins.fill(0);
    this.count = 0;
    this.overflow = 0;
  }

  toJSON(): { count: number; p50: number; p95: number; p99: number; overflow: number } {
    return { count: this.count, p50: this.percentile(50), p95: this.percentile(95), p99: this.percentile(99), overflow: this.overflow };
  }
}
