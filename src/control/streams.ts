// Streaming routes (docs/api.md "Streaming", issue 3): start/stop a live
// stream, broadcaster and listener signaling, live denoise strength, status.
// The lifecycle itself lives in live-streams.ts; this file is the HTTP edge:
// schemas, who may do what, and the wiring of every cleanup path.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_OFFER_CHARS, offerProblem, type OfferDirection } from '../media/transport/sdp-offer-check.js';
import { areFriends, listFriends } from '../store/friends.js';
import { findUserByUsername } from '../store/users.js';
import { ApiError } from './errors.js';
import { LiveStreams } from './live-streams.js';
import { userTopic } from './notifier.js';
import { recoverRecordings } from './recovery.js';
import { StreamError } from './stream-error.js';
import { StreamRouting } from './stream-routing.js';
import { streamRecordingRows } from './stream-recording-rows.js';
import { parseInput } from './validation.js';

const Sdp = z.string().max(MAX_OFFER_CHARS * 2);
const Username = z.string().min(1).max(64);
const OfferBody = z.object({ session_id: z.string().min(1).max(64), sdp: Sdp });
const ListenBody = z.object({ username: Username, sdp: Sdp });
const ListenStopBody = z.object({ username: Username.optional(), listener_id: z.string().min(1).max(64) });
/** Attenuation limit in dB (issue 5): null = unlimited, 0 = off. */
const DenoiseBody = z.object({ atten_lim_db: z.number().min(0).max(100).nullable() });

/** The offer rules (src/media/transport/sdp-offer-check.ts) at the edge: a bad offer never reaches the media plane. */
export function checkSdp(sdp: string, direction: OfferDirection): string {
  const problem = offerProblem(sdp, direction);
  if (problem) throw new StreamError('BAD_SDP', `The SDP offer was rejected: ${problem}.`);
  return sdp;
}

export async function streamsPlugin(app: FastifyInstance): Promise<void> {
  const { config, db, bus, notifier, presence, media, closeChain, cluster } = app.services;
  const nodeScope = cluster ? config.nodeId : null;
  if (!media) {
    // Only an app built without a media plane (some control-plane tests): no streaming, but status still answers.
    app.log.warn('streams: no media plane; live streaming is disabled');
    app.get('/api/stream/status/', { preHandler: app.requireUser }, async (request) => {
      const friends = await listFriends(db, request.user.id);
      const online = await presence.onlineAmong(friends.map((f) => f.id));
      return {
        me: { is_streaming: false, started_at: null, listeners: 0, engine: null, session_id: null, atten_lim_db: null },
        friends: friends.map((f) => ({ username: f.username, online: online.has(f.id), is_streaming: false, started_at: null, listeners: 0 })),
      };
    });
    return;
  }
  const live = new LiveStreams({
    config,
    db,
    media,
    notifier,
    recordings: streamRecordingRows(db, notifier, config, app.log, config.nodeId),
    areFriends: (a, b) => areFriends(db, a, b),
    watchUser: (userId, onMessage) => bus.subscribe(userTopic(userId), onMessage),
    log: app.log,
    nodeScope,
  });
  // A previous run that crashed left unfinished recordings and stale live streams:
  // recovery (recordings feature) repairs the files, finalizes the rows and removes
  // the stale ActiveStream rows, telling friends; clearStale() catches any row
  // recovery did not know about. Both run before the first request is served.
  app.services.localStreams = () => live.count();
  const routing = new StreamRouting(live, db, cluster?.rpc ?? null, config.nodeId);
  await recoverRecordings({ db, recordingsDir: config.recordingsDir, notifier, log: app.log, nodeScope });
  // A dead node's streams are ended by the survivor that claimed its clean-up (node-heartbeat.ts).
  cluster?.heartbeat.onNodeDied(async (nodeId) => {
    const ended = await live.endStreamsOfNode(nodeId);
    if (ended > 0) app.log.warn({ node: nodeId, streams: ended }, 'node died; its live streams are ended');
  });
  await live.clearStale();
  presence.onUserOffline((userId: number) => {
    live.userOffline(userId).catch((err: unknown) => app.log.error({ err, userId }, 'ending the stream of a user who went offline failed'));
  });
  // Shutdown ends every stream while friends' sockets are still open (preClose; streams is
  // registered before presence so this runs before the sockets close), so they hear
  // is_streaming:false; the close-chain step is the backstop, before media, bus and database close.
  app.addHook('preClose', async () => {
    await live.closeAll();
  });
  closeChain.add('live streams', () => live.closeAll());

  // navigator.sendBeacon posts text/plain; the stop routes accept it (the Origin check still applies).
  if (app.hasContentTypeParser('text/plain')) app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, _request, reply) => {
    if (!(err instanceof StreamError)) throw err; // the app's handler maps the rest
    return reply.code(err.statusCode).send({ error: { code: err.code, message: err.message } });
  });

  const auth = { preHandler: app.requireUser };

  app.post('/api/stream/start/', auth, async (request, reply) => {
    const stream = await live.start(request.user);
    return reply.code(201).send({ stream, message: 'You are live.' });
  });

  app.post('/api/webrtc/offer/', auth, async (request) => {
    const body = parseInput(OfferBody, jsonBody(request));
    const offer = checkSdp(body.sdp, 'send');
    const host = await routing.remoteHostOfSession(body.session_id);
    const me = { id: request.user.id, username: request.user.username };
    const sdp = host ? await routing.answerBroadcaster(host, me, body.session_id, offer) : await live.answerBroadcaster(request.user, body.session_id, offer);
    return { sdp };
  });

  app.post('/api/webrtc/listen/', auth, async (request) => {
    const body = parseInput(ListenBody, jsonBody(request));
    const found = await findUserByUsername(db, body.username);
    const broadcaster = found ? { id: found.id, username: found.username } : null;
    const offer = checkSdp(body.sdp, 'receive');
    const host = broadcaster ? await routing.remoteHostOfUser(broadcaster.id) : null;
    const me = { id: request.user.id, username: request.user.username };
    return host && broadcaster ? routing.addListener(host, me, broadcaster, offer) : live.addListener(request.user, broadcaster, offer);
  });

  app.post('/api/webrtc/listen/stop/', auth, async (request) => {
    const body = parseInput(ListenStopBody, jsonBody(request));
    // A listener connected through another node: the broadcaster's name says which node hosts it.
    const broadcaster = !live.hasListener(body.listener_id) && body.username ? await findUserByUsername(db, body.username) : undefined;
    const host = broadcaster ? await routing.remoteHostOfUser(broadcaster.id) : null;
    const me = { id: request.user.id, username: request.user.username };
    if (host) await routing.removeListener(host, me, body.listener_id);
    else await live.removeListener(request.user, body.listener_id);
    return { message: 'Stopped listening.' };
  });

  app.post('/api/stream/stop/', auth, async (request, reply: FastifyReply) => {
    // The body is ignored: sendBeacon may send nothing or text/plain.
    const host = await routing.remoteHostOfUser(request.user.id);
    const me = { id: request.user.id, username: request.user.username };
    const ended = host ? await routing.stop(host, me) : await live.stop(request.user);
    const body: Record<string, unknown> = { message: 'Your stream has ended.' };
    if (ended.recording) {
      body.recording = ended.recording;
      body.message = 'Your stream has ended; the recording is saved.';
    }
    return reply.code(200).send(body);
  });

  app.post('/api/stream/denoise/', auth, async (request) => {
    const body = parseInput(DenoiseBody, jsonBody(request));
    const host = await routing.remoteHostOfUser(request.user.id);
    const me = { id: request.user.id, username: request.user.username };
    if (host) await routing.setDenoise(host, me, body.atten_lim_db);
    else await live.setDenoise(request.user, { attenLimDb: body.atten_lim_db });
    const label = body.atten_lim_db === null ? 'full strength' : body.atten_lim_db === 0 ? 'off' : `limited to ${body.atten_lim_db} dB`;
    return { atten_lim_db: body.atten_lim_db, message: `Noise reduction: ${label}.` };
  });

  app.get('/api/stream/status/', auth, async (request) => {
    const friends = await listFriends(db, request.user.id);
    const [states, online] = await Promise.all([
      live.liveStates(friends.filter((f) => f.session_id !== null).map((f) => f.id)),
      presence.onlineAmong(friends.map((f) => f.id)),
    ]);
    const host = await routing.remoteHostOfUser(request.user.id);
    return {
      me: host ? await routing.ownStatus(host, request.user.id) : live.ownStatus(request.user.id),
      friends: friends.map((f) => {
        const s = states.get(f.id);
        return {
          username: f.username,
          online: online.has(f.id) || s !== undefined,
          is_streaming: s !== undefined,
          started_at: s?.started_at ?? null,
          listeners: s?.listeners ?? 0,
        };
      }),
    };
  });
}

/** JSON object from an application/json body, or from a sendBeacon text/plain body. */
function jsonBody(request: FastifyRequest): unknown {
  if (typeof request.body !== 'string') return request.body;
  if (request.body.trim() === '') return {};
  try {
    return JSON.parse(request.body) as unknown;
  } catch {
    throw new ApiError('BAD_JSON', 'The request body is not valid JSON.');
  }
}
