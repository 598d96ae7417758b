// A real media plane (worker threads, werift, engine `none` by default) over a
// temporary data directory, recording every session that ends on its own.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import type { SessionEndReason, SessionSummary } from '../../src/media/media-plane.js';
import { createMediaPlane, type WorkerPoolMediaPlane } from '../../src/media/workers/worker-pool.js';

const quietLog = { debug() {}, info() {}, warn() {}, error: (o: object, m: string) => console.error(m, o) };

export interface MediaPlaneHarness {
  plane: WorkerPoolMediaPlane;
  /** The data directory (recordings go here). */
  dir: string;
  /** Sessions that ended on their own (no-media, ice-failed, worker-crashed…), in order. */
  ended: { summary: SessionSummary; reason: SessionEndReason }[];
  close(): Promise<void>;
}

export async function openMediaPlane(overrides: Partial<Config>): Promise<MediaPlaneHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hc-media-'));
  const ended: MediaPlaneHarness['ended'] = [];
  const plane = await createMediaPlane(loadConfig({ DATA_DIR: dir, DENOISE_ENGINE: 'none' }, overrides), quietLog);
  plane.on('sessionEnded', (summary, reason) => ended.push({ summary, reason }));
  return {
    plane,
    dir,
    ended,
    async close() {
      await plane.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
