// The one place that reads the environment. Every variable here is documented
// in README.md ("Configuration"); add new ones here and there together.
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type DenoiseEngineName = 'dfn3' | 'rnnoise' | 'none';

export interface Config {
  /** HTTP(S) port; 0 picks a free one (tests). */
  port: number;
  host: string;
  /** Origins allowed on state-changing requests besides the request's own Host. */
  allowedOrigins: string[];
  dataDir: string;
  recordingsDir: string;
  /** `sqlite:<file>` (default, one node) or `postgres://…` (the store shared by several nodes). */
  databaseUrl: string;
  /** When set, the bus is Redis pub/sub and presence is counted across nodes in Redis; otherwise in-memory. */
  redisUrl: string | undefined;
  /** This node's name in the cluster (heartbeats, /api/health); default hostname:PORT. */
  nodeId: string;
  /** Signs node-to-node requests (HMAC-SHA256); the same on every node. Without it a node serves only streams it hosts. */
  clusterSecret: string | undefined;
  /** Signs nothing secret-bearing by itself; sessions are server-side rows. Kept for cookie signing. */
  sessionSecret: string;
  sessionTtlHours: number;
  /** Serve HTTPS directly when both are set (browsers need a secure context for the microphone). */
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  /**
   * Which X-Forwarded-* hops to believe (Fastify's trustProxy): false = none, a number = that many
   * proxies in front (1 = one reverse proxy), a list = proxy addresses/CIDRs (proxy-addr syntax).
   */
  trustProxy: false | number | string[];
  /**
   * The address users type, e.g. `https://hush.example.org`. When set, requests whose Host is not its
   * host are refused (DNS rebinding) and it is the page origin the Origin check expects.
   */
  publicUrl: URL | undefined;
  /** Sign-ups admitted per client address per hour. */
  signupsPerIpPerHour: number;
  /** Open /ws sockets per user on one node; one more closes with 4409. */
  wsMaxPerUser: number;
  /** Messages a client may send per socket per second; one more closes with 4429. */
  wsMaxMessagesPerSecond: number;
  logLevel: string;

  denoiseEngine: DenoiseEngineName;
  dfnModelDir: string;
  /** Attenuation limit in dB for DeepFilterNet (0 or absent = unlimited). */
  dfnAttenLimDb: number | undefined;

  mediaWorkers: number;
  maxListeners: number;
  /** Listener peers one user may hold on one stream at a time (set up or connected). */
  maxListenersPerUser: number;
  /** A listener peer whose ICE/DTLS has not completed within this long is dropped, freeing its slot. */
  listenerConnectTimeoutMs: number;
  /** Recordings with less received audio than this are not kept (nor announced); 0 keeps any with some audio. */
  minRecordingMs: number;
  noMediaTimeoutMs: number;
  /** Address announced in ICE candidates (public IP behind NAT). */
  iceAnnouncedAddress: string | undefined;
  icePortMin: number | undefined;
  icePortMax: number | undefined;
  /** STUN/TURN servers, e.g. `stun:stun.example.org:3478,turn:user:pass@turn.example.org:3478`. */
  iceServers: string[];
  /** Also keep the raw (un-denoised) input as a second WAV for A/B listening. */
  /** Format of new recordings (RECORD_FORMAT): Ogg Opus from the live encoder's packets, or 16-bit WAV. */
  recordFormat: 'opus' | 'wav';
  recordRaw: boolean;
  /**
   * RTP through hushcast's own SRTP code in both directions (src/media/transport/srtp-fast-sender.ts for
   * listeners, srtp-fast-receiver.ts for broadcasters); false: werift's sendRtp and receive chain.
   */
  srtpFastPath: boolean;
  /**
   * Real-time (SCHED_RR) priority of the media worker threads, 1–99, on Linux; 0 = normal
   * scheduling. Needs root or CAP_SYS_NICE; without it the workers run normally and say why.
   */
  mediaRtPriority: number;
  /** Serve the built web app from web/dist (production); tests and `npm start` use it. */
  webDistDir: string;
}

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const optInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max).optional();

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  ALLOWED_ORIGINS: z.string().default(''),
  DATA_DIR: z.string().min(1).default('./data'),
  RECORDINGS_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().optional(),
  REDIS_URL: z.string().optional(),
  CLUSTER_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  NODE_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, { error: 'use 1–100 of A-Z a-z 0-9 . _ : -' }).optional(),
  SESSION_SECRET: z.string().min(16).optional(),
  SESSION_TTL_HOURS: z.coerce.number().positive().default(24 * 14),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  TRUST_PROXY: z.string().default(''),
  PUBLIC_URL: z.string().optional(),
  SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().min(1).max(100_000).default(10),
  WS_MAX_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
  WS_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).max(10_000).default(20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DENOISE_ENGINE: z.enum(['dfn3', 'rnnoise', 'none']).default('dfn3'),
  DFN_MODEL_DIR: z.string().optional(),
  DFN_ATTEN_LIM_DB: z.coerce.number().min(0).max(100).optional(),
  MEDIA_WORKERS: optInt(1, 64),
  MAX_LISTENERS: z.coerce.number().int().min(1).max(10000).default(100),
  MAX_LISTENERS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  LISTENER_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  MIN_RECORDING_MS: z.coerce.number().int().min(0).max(600_000).default(1000),
  NO_MEDIA_TIMEOUT_MS: z.coerce.number().int().min(500).default(5000),
  ICE_ANNOUNCED_ADDRESS: z.string().optional(),
  ICE_PORT_MIN: optInt(1024, 65535),
  ICE_PORT_MAX: optInt(1024, 65535),
  ICE_SERVERS: z.string().default(''),
  RECORD_FORMAT: z.enum(['opus', 'wav']).default('opus'),
  RECORD_RAW: bool.default(false),
  SRTP_FAST_PATH: bool.default(true),
  MEDIA_RT_PRIORITY: z.coerce.number().int().min(0).max(99).default(10),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the configuration from `env` (process.env by default); throws ConfigError naming the bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`invalid environment variable ${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if ((e.ICE_PORT_MIN === undefined) !== (e.ICE_PORT_MAX === undefined)) {
    throw new ConfigError('ICE_PORT_MIN and ICE_PORT_MAX must be set together');
  }
  if (e.ICE_PORT_MIN !== undefined && e.ICE_PORT_MAX !== undefined && e.ICE_PORT_MIN > e.ICE_PORT_MAX) {
    throw new ConfigError('ICE_PORT_MIN must not exceed ICE_PORT_MAX');
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const config: Config = {
    port: e.PORT,
    host: e.HOST,
    allowedOrigins: splitList(e.ALLOWED_ORIGINS),
    dataDir,
    recordingsDir: e.RECORDINGS_DIR ? path.resolve(e.RECORDINGS_DIR) : path.join(dataDir, 'recordings'),
    databaseUrl: e.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'hushcast.db')}`,
    redisUrl: e.REDIS_URL,
    nodeId: e.NODE_ID ?? `${os.hostname()}:${e.PORT}`,
    clusterSecret: e.CLUSTER_SECRET,
    sessionSecret: e.SESSION_SECRET ?? '',
    sessionTtlHours: e.SESSION_TTL_HOURS,
    tlsCertFile: e.TLS_CERT_FILE,
    tlsKeyFile: e.TLS_KEY_FILE,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    publicUrl: e.PUBLIC_URL === undefined ? undefined : parsePublicUrl(e.PUBLIC_URL),
    signupsPerIpPerHour: e.SIGNUPS_PER_IP_PER_HOUR,
    wsMaxPerUser: e.WS_MAX_PER_USER,
    wsMaxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
    logLevel: e.LOG_LEVEL,
    denoiseEngine: e.DENOISE_ENGINE,
    dfnModelDir: path.resolve(e.DFN_MODEL_DIR ?? defaultModelDir(dataDir)),
    dfnAttenLimDb: e.DFN_ATTEN_LIM_DB,
    mediaWorkers: e.MEDIA_WORKERS ?? Math.max(1, os.availableParallelism()),
    maxListeners: e.MAX_LISTENERS,
    maxListenersPerUser: e.MAX_LISTENERS_PER_USER,
    listenerConnectTimeoutMs: e.LISTENER_CONNECT_TIMEOUT_MS,
    minRecordingMs: e.MIN_RECORDING_MS,
    noMediaTimeoutMs: e.NO_MEDIA_TIMEOUT_MS,
    iceAnnouncedAddress: e.ICE_ANNOUNCED_ADDRESS,
    icePortMin: e.ICE_PORT_MIN,
    icePortMax: e.ICE_PORT_MAX,
    iceServers: splitList(e.ICE_SERVERS),
    recordFormat: e.RECORD_FORMAT,
    recordRaw: e.RECORD_RAW,
    srtpFastPath: e.SRTP_FAST_PATH,
    mediaRtPriority: e.MEDIA_RT_PRIORITY,
    webDistDir: path.join(PROJECT_ROOT, 'web', 'dist'),
  };
  return { ...config, ...overrides };
}

/** `npm run models:fetch` puts the model under DATA_DIR; a development checkout next to ../shared uses that copy. */
function defaultModelDir(dataDir: string): string {
  const fetched = path.join(dataDir, 'models', 'DeepFilterNet3');
  const shared = path.resolve(PROJECT_ROOT, '..', 'shared', 'models', 'DeepFilterNet3');
  return !existsSync(fetched) && existsSync(shared) ? shared : fetched;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** proxy-addr's names for address ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * TRUST_PROXY: a hop count (`1` = one reverse proxy; `0`/`false` = none) or a comma-separated list of
 * proxy addresses/CIDRs. `true` is refused: believing every hop lets a client write its own address.
 */
export function parseTrustProxy(value: string): false | number | string[] {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === 'no' || v === '0') return false;
  if (/^\d+$/.test(v)) {
    const hops = Number(v);
    if (hops > 32) throw new ConfigError(`invalid environment variable TRUST_PROXY: ${hops} hops is not a real proxy chain`);
    return hops;
  }
  if (v === 'true' || v === 'yes') {
    throw new ConfigError(
      'invalid environment variable TRUST_PROXY: "true" would trust every X-Forwarded-For hop, which the client writes; give the number of proxies in front (e.g. 1) or their addresses',
    );
  }
  const list = splitList(v);
  for (const entry of list) {
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIP(addr!);
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_RANGE_NAMES.has(entry) && (family === 0 || !bitsOk || extra !== undefined)) {
      throw new ConfigError(`invalid environment variable TRUST_PROXY: "${entry}" is not a hop count, an IP address, a CIDR or loopback/linklocal/uniquelocal`);
    }
  }
  return list;
}

function parsePublicUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`invalid environment variable PUBLIC_URL: "${value}" is not a URL`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash || url.username) {
    throw new ConfigError(`invalid environment variable PUBLIC_URL: give only scheme, host and port, e.g. https://hush.example.org`);
  }
  return url;
}
