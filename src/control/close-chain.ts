// Ordered shutdown of the app's services. Steps run in reverse order of
// registration (like `defer`): what was opened first (the database) closes
// last, so everything that still writes during shutdown finds it open. Every
// step runs even if an earlier one fails; the failures are reported together.

export type CloseStep = () => Promise<void> | void;

export class CloseChain {
  private readonly steps: Array<{ name: string; step: CloseStep }> = [];
  private running: Promise<void> | null = null;

  add(name: string, step: CloseStep): void {
    if (this.running) throw new Error(`cannot add close step "${name}": the app is already closing`);
    this.steps.push({ name, step });
  }

  /** Runs every step once; later calls return the same promise. */
  run(log: (msg: string, err: unknown) => void): Promise<void> {
    this.running ??= (async () => {
      const failures: string[] = [];
      for (const { name, step } of [...this.steps].reverse()) {
        try {
          await step();
        } catch (err) {
          log(`closing ${name} failed`, err);
          failures.push(name);
        }
      }
      if (failures.length > 0) throw new Error(`shutdown steps failed: ${failures.join(', ')}`);
    })();
    return this.running;
  }
}
