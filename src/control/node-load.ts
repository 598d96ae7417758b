// How busy this machine is, as /api/health and the node heartbeat report it.
import os from 'node:os';

/** One-minute load average per CPU core (1 = every core busy). */
export function loadPerCore(): number {
  return Math.round((os.loadavg()[0]! / Math.max(1, os.availableParallelism())) * 100) / 100;
}
