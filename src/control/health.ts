// GET /api/health: this node (id, role, streams, load), whether the database
// and Redis answer, and which denoiser actually runs (and why it fell back).
// 503 when the database or Redis does not answer, so a load balancer takes the
// node out of rotation until they do.
import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { answersWithin } from '../cluster/cluster.js';
import { dialectOf } from '../store/dialect.js';
import { loadPerCore } from './node-load.js';

/** A dependency that takes longer than this to answer counts as unreachable. */
const CHECK_TIMEOUT_MS = 1000;

export const healthPlugin: FastifyPluginAsync = async (app) => {
  const { config, media, db, cluster } = app.services;
  app.get('/api/health', async (_request, reply) => {
    const status = media?.engineStatus();
    const [database, redis] = await Promise.all([
      answersWithin(sql`select 1`.execute(db), CHECK_TIMEOUT_MS),
      cluster ? cluster.reachable(CHECK_TIMEOUT_MS) : Promise.resolve(null),
    ]);
    const ok = database && redis !== false;
    return reply.code(ok ? 200 : 503).send({
      ok,
      node: {
        id: config.nodeId,
        role: cluster ? 'cluster' : 'standalone',
        streams: app.services.localStreams(),
        load: loadPerCore(),
      },
      database: { kind: dialectOf(db), reachable: database },
      redis: cluster ? { reachable: redis } : null,
      denoise: status
        ? { engine: status.engine, fallback_reason: status.fallbackReason }
        : { engine: config.denoiseEngine, fallback_reason: null },
    });
  });
};
