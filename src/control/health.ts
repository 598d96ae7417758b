// GET /api/health: liveness plus which denoiser actually runs (and why it fell back).
import type { FastifyPluginAsync } from 'fastify';

export const healthPlugin: FastifyPluginAsync = async (app) => {
  const { config, media } = app.services;
  app.get('/api/health', async () => {
    const status = media?.engineStatus();
    return {
      ok: true,
      denoise: status
        ? { engine: status.engine, fallback_reason: status.fallbackReason }
        : { engine: config.denoiseEngine, fallback_reason: null },
    };
  });
};
