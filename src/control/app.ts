// The server, built by a factory so tests start it on a random port and other
// engineers plug their feature in with one line (see FEATURES below).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions, type preHandlerAsyncHookHandler } from 'fastify';
import type { Bus } from '../bus/bus.js';
import { createBus } from '../bus/create-bus.js';
import { Cluster } from '../cluster/cluster.js';
import type { Config } from '../config.js';
import type { MediaPlane } from '../media/media-plane.js';
import { createMediaPlane } from '../media/workers/worker-pool.js';
import { type Db, openDatabase } from '../store/db.js';
import { ensurePrivateDir } from '../store/private-files.js';
import { authPlugin } from './auth.js';
import { CloseChain } from './close-chain.js';
import { csrfGuard, hostGuard } from './csrf.js';
import { ApiError } from './errors.js';
import { friendsPlugin } from './friends.js';
import { healthPlugin } from './health.js';
import { loadPerCore } from './node-load.js';
import { Notifier } from './notifier.js';
import { Presence, presencePlugin } from './presence.js';
import { type AuthUser, type SessionResolver, requireUserHook, sessionResolver } from './require-user.js';
import { recordingsPlugin } from './recordings.js';
import { RedisSignInAttemptStore } from './redis-sign-in-attempt-store.js';
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter } from './sign-in-limiter.js';
import { SESSION_PURGE_MS, SessionPurger } from './session-purger.js';
import { SignUpLimiter } from './sign-up-limiter.js';
import { streamErrorForNode } from './stream-routing.js';
import { streamsPlugin } from './streams.js';
import { usersPlugin } from './users.js';

/** Shared services every feature plugin reads from `app.services`. */
export interface Services {
  config: Config;
  db: Db;
  bus: Bus;
  notifier: Notifier;
  presence: Presence;
  /** Membership of a cluster (REDIS_URL set): heartbeat, online registry; null on a standalone node. */
  cluster: Cluster | null;
  /** Live streams hosted by this node (set by the streams feature; health and heartbeats report it). */
  localStreams: () => number;
  media?: MediaPlane;
  signInLimiter: SignInLimiter;
  signUpLimiter: SignUpLimiter;
  sessionPurger: SessionPurger;
  /** Register shutdown work; steps run in reverse order of registration, before the bus, media plane and database close. */
  closeChain: CloseChain;
}

export interface AppDeps {
  /** An already-open database (default: openDatabase(config.databaseUrl)). Closed by app.close(). */
  db?: Db;
  /** Default: Redis when config.redisUrl is set, else in-memory. Closed by app.close(). */
  bus?: Bus;
  /** The media plane (default: the worker pool; null: none, streaming disabled). Closed by app.close() before the database. */
  media?: MediaPlane | null;
  signInLimiter?: SignInLimiter;
  /** Serve web/dist with SPA fallback (default: when web/dist/index.html exists). */
  serveWeb?: boolean;
  /** WebSocket heartbeat interval (default HEARTBEAT_MS); tests shorten it. */
  heartbeatMs?: number;
  /** How often expired session rows are deleted (default SESSION_PURGE_MS); tests shorten it. */
  sessionPurgeMs?: number;
  /** Clock for per-socket message rates (default Date.now); tests freeze it. */
  now?: () => number;
  /** Where the log goes (default stdout); tests read it. */
  logStream?: { write(line: string): void };
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    /** preHandler: sets request.user / request.sessionId or answers 401 NOT_SIGNED_IN. */
    requireUser: preHandlerAsyncHookHandler;
    /** The session of a request, or null (no throw). Used by the WebSocket route. */
    resolveSession: SessionResolver;
  }
  interface FastifyRequest {
    /** Set by app.requireUser; do not read on routes without it. */
    user: AuthUser;
    sessionId: string;
  }
}

/**
 * Feature plugins, registered in this order, each owning its routes (full
 * paths from docs/api.md, so no prefix). To add a feature, add one line:
 *   streams.ts (issue 3) and recordings.ts (issue 4) go at the marked places.
 */
const FEATURES: Array<[name: string, plugin: FastifyPluginAsync]> = [
  ['health', healthPlugin],
  ['auth', authPlugin],
  ['users', usersPlugin],
  ['friends', friendsPlugin],
  // streams before presence: at shutdown its preClose ends live streams while sockets can still tell friends.
  ['streams', streamsPlugin],
  ['presence', presencePlugin],
  ['recordings', recordingsPlugin],
];

/** Request bodies (SDP included) are small; anything bigger is refused with 413 BODY_TOO_LARGE. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const options: FastifyServerOptions & { https?: { cert: Buffer; key: Buffer } } = {
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    logger: deps.logStream ? { level: config.logLevel, stream: deps.logStream } : { level: config.logLevel },
    // Shutdown must not wait for idle keep-alive connections.
    forceCloseConnections: true,
  };
  if (config.tlsCertFile && config.tlsKeyFile) {
    options.https = { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) };
  }
  const app = Fastify(options) as unknown as FastifyInstance;

  const closeChain = new CloseChain();
  // Opened first, closed last: everything below may still write while shutting down.
  const db = deps.db ?? (await openDatabase(config.databaseUrl));
  // Private audio lives here; made 0700 now, before any recording or recovery touches it. A folder
  // that cannot exist (a file in its path, no permission) does not stop the server: streams still
  // work, each is told its recording stopped (the recorder's own error path), recovery skips it.
  try {
    ensurePrivateDir(config.recordingsDir, { tighten: true });
  } catch (err) {
    app.log.error({ err, recordingsDir: config.recordingsDir }, 'recordings folder unusable: streams will not be recorded');
  }
  closeChain.add('database', () => db.destroy());
  const bus = deps.bus ?? createBus(config.redisUrl, (err, topic) => app.log.error({ err, topic }, 'bus subscriber failed'));
  closeChain.add('bus', () => bus.close());
  const media = deps.media === undefined ? await createMediaPlane(config, app.log) : (deps.media ?? undefined);
  if (media) closeChain.add('media plane', () => media.close());
  // With Redis (several nodes) the guessing counts are shared, so a node count does not multiply the limits.
  const signInLimiter =
    deps.signInLimiter ??
    new SignInLimiter(DEFAULT_SIGN_IN_LIMITS, Date.now, config.redisUrl ? new RedisSignInAttemptStore(config.redisUrl) : undefined);
  closeChain.add('sign-in limiter', () => signInLimiter.close());
  const services = {} as Services;
  const cluster = config.redisUrl
    ? new Cluster(
        config.redisUrl,
        config.nodeId,
        config.clusterSecret,
        () => ({ streams: services.localStreams(), load: loadPerCore() }),
        streamErrorForNode,
        (err, what) => app.log.error({ err }, `${what} failed`),
      )
    : null;
  if (cluster && !cluster.rpc) app.log.warn('REDIS_URL without CLUSTER_SECRET: requests about streams hosted on other nodes are refused');
  if (cluster) closeChain.add('cluster membership', () => cluster.close());
  const presence = new Presence((err) => app.log.error({ err }, 'presence listener failed'), deps.heartbeatMs, cluster?.online, deps.now);
  if (cluster) {
    // Registered before start(): the first round may already find this node's own previous life to clean up.
    cluster.heartbeat.onNodeDied(async (nodeId) => {
      const lost = await cluster.online.reapNode(nodeId);
      app.log.warn({ node: nodeId, users: lost.length }, 'node died; its sockets are counted out');
      presence.usersLost(lost);
    });
  }
  const notifier = new Notifier(db, bus, presence);

  const signUpLimiter = new SignUpLimiter(config.signupsPerIpPerHour);
  closeChain.add('sign-up limiter', () => signUpLimiter.close());
  const sessionPurger = new SessionPurger(
    db,
    deps.sessionPurgeMs ?? SESSION_PURGE_MS,
    (err) => app.log.error({ err }, 'purging expired sessions failed'),
    () => presence.closeEndedSessions(),
  );
  closeChain.add('session purger', () => sessionPurger.close());
  await sessionPurger.run();
  Object.assign(services, { config, db, bus, notifier, presence, cluster, localStreams: () => 0, media, signInLimiter, signUpLimiter, sessionPurger, closeChain });
  app.decorate('services', services);
  app.addHook('onClose', async () => {
    await closeChain.run((msg, err) => app.log.error({ err }, msg));
  });

  // Without a configured secret (tests) a per-process one: sessions then end with the process, which is harmless there.
  const secret = config.sessionSecret || randomBytes(32).toString('base64url');
  await app.register(fastifyCookie, { secret });
  await app.register(fastifyHelmet, HELMET_OPTIONS);
  app.addHook('onSend', async (request, reply) => {
    // Private JSON and private audio are never kept by browsers or shared caches.
    if (isApiPath(request.url)) reply.header('cache-control', 'no-store');
    // Browsers act on these only from a secure origin (and Chromium logs an error for COOP otherwise).
    if (request.protocol === 'https') {
      reply.header('cross-origin-opener-policy', 'same-origin');
      reply.header('strict-transport-security', 'max-age=15552000');
    }
  });
  const resolveSession = sessionResolver(db, secret);
  app.decorate('resolveSession', resolveSession);
  app.decorate('requireUser', requireUserHook(resolveSession));
  app.decorateRequest('user', null as unknown as AuthUser);
  app.decorateRequest('sessionId', '');

  app.addHook('onRequest', hostGuard(config.publicUrl));
  app.addHook('onRequest', csrfGuard(config));
  app.setErrorHandler((err, request, reply) => {
    const apiErr = toApiError(err);
    if (apiErr.status >= 500) request.log.error({ err }, 'request failed');
    return reply.code(apiErr.status).headers(apiErr.headers).send(apiErr.toBody());
  });

  const serveWeb = deps.serveWeb ?? existsSync(path.join(config.webDistDir, 'index.html'));
  if (serveWeb) {
    if (!existsSync(path.join(config.webDistDir, 'index.html'))) {
      throw new Error(`web app not built: ${config.webDistDir}/index.html is missing (run npm run build:web)`);
    }
    await app.register(fastifyStatic, { root: config.webDistDir, wildcard: true });
  }
  app.setNotFoundHandler((request, reply) => {
    const urlPath = request.url.split('?')[0]!;
    if (serveWeb && !isApiPath(urlPath) && (request.method === 'GET' || request.method === 'HEAD')) {
      // SPA fallback: the browser app routes /friends/ann etc. itself.
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    const err = new ApiError('NOT_FOUND', `No such endpoint: ${request.method} ${urlPath}`);
    return reply.code(err.status).send(err.toBody());
  });

  for (const [, plugin] of FEATURES) await app.register(plugin);
  await app.ready();
  // Joins after every feature is listening for dead nodes, before the first request.
  if (cluster) await cluster.start();
  return { app, close: () => app.close() };
}

/** Everything under /api/ and the WebSocket: private, never the SPA fallback. */
function isApiPath(url: string): boolean {
  const urlPath = url.split('?')[0]!;
  return urlPath === '/api' || urlPath.startsWith('/api/') || urlPath === '/ws';
}

/**
 * Security headers (docs/api.md "Security headers"). The CSP fits the built web app: its own scripts and
 * styles only, plus inline styles (wavesurfer.js writes a <style> into its shadow root); media, images
 * and fetch/WebSocket from this origin ('self' covers ws:/wss: to the page's own host in CSP 3),
 * blob:/data: for audio and images made in the page; no framing, no plugins. upgrade-insecure-requests
 * is off: hushcast also runs over plain HTTP on localhost and LANs; for the same reason COOP and HSTS
 * are sent by the onSend hook over HTTPS only.
 */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'blob:'],
      mediaSrc: ["'self'", 'blob:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' as const },
  referrerPolicy: { policy: 'same-origin' as const },
  crossOriginOpenerPolicy: false,
  strictTransportSecurity: false,
};

/** A hop count as the function Fastify builds from a number (its types accept no number): hop 0 is the socket's peer. */
function fastifyTrustProxy(trust: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof trust !== 'number') return trust;
  return (_address: string, hop: number) => hop < trust;
}

/** Maps anything thrown in a route to the API's error shape. */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('BODY_TOO_LARGE', `The request body is larger than ${BODY_LIMIT_BYTES / 1024} KiB.`);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('BAD_JSON', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.');
  }
  if (e.validation) return new ApiError('VALIDATION', e.message ?? 'The request is invalid.');
  if (err instanceof SyntaxError && e.statusCode === 400) return new ApiError('BAD_JSON', 'The request body is not valid JSON.');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError('VALIDATION', e.message ?? 'The request is invalid.', { status: e.statusCode });
  }
  return new ApiError('INTERNAL', 'Something went wrong on the server. Please try again.');
}
