// `npm start`: the production server. Reads the environment (src/config.ts),
// serves the API, the presence WebSocket and the built browser app (web/dist)
// over HTTP, or HTTPS when TLS_CERT_FILE/TLS_KEY_FILE are set, and shuts down
// gracefully on SIGTERM/SIGINT (sockets closed, live streams ended and their
// recordings finalized by the media plane, then the database closed).
import { ConfigError, loadConfig } from './config.js';
import { buildApp } from './control/app.js';
import { loadOrCreateSessionSecret } from './control/session-secret.js';

/** Shutdown that takes longer than this is cut short (the next start repairs what was left). */
const SHUTDOWN_TIMEOUT_MS = 15_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hushcast: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (!config.sessionSecret) config = { ...config, sessionSecret: loadOrCreateSessionSecret(config.dataDir) };

  const { app, close } = await buildApp(config, { serveWeb: true });
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      app.log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    app.log.info(`${signal}: shutting down`);
    const timer = setTimeout(() => {
      app.log.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error('hushcast failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
