import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WavRecorder } from '../../src/media/recording/recorder.js';
import { createRecording, finalizeRecording } from '../../src/store/recordings.js';
import { Client, snapshot, startTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp;
let ann: Client, bob: Client, cid: Client, dan: Client, anon: Client;
const ids: Record<string, number> = {};
const users: Record<string, number> = {};

async function befriend(a: Client, b: Client, bName: string): Promise<void> {
  const r = await a.post('/api/friends/requests', { username: bName });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const acc = await b.post(`/api/friends/requests/${r.body.request.id}/accept`);
  assert.equal(acc.status, 200, JSON.stringify(acc.body));
}

/** A finished recording of `seconds` of a ramp signal, as the recorder writes it. */
function record(fileName: string, seconds: number): { durationMs: number; sizeBytes: number } {
  const rec = WavRecorder.open(path.join(t.config.recordingsDir, fileName), 48000);
  const hop = new Float32Array(480);
  for (let k = 0; k < seconds * 100; k++) {
    for (let i = 0; i < 480; i++) hop[i] = Math.sin((k * 480 + i) / 30) * 0.3;
    rec.write(hop);
  }
  return rec.close();
}

async function addRecording(owner: string, fileName: string, startedAt: string, seconds = 1, status = 'complete'): Promise<number> {
  const r = record(fileName, seconds);
  const id = await createRecording(t.db, { ownerId: users[owner]!, fileName, rawFileName: null, startedAt, sampleRate: 48000, engine: 'none' });
  if (status !== 'recording') await finalizeRecording(t.db, id, { endedAt: startedAt, durationMs: r.durationMs, sizeBytes: r.sizeBytes, status: 'complete' });
  return id;
}

before(async () => {
  // No media plane: these tests never stream, and recordings do not need one.
  t = await startTestApp({}, { media: null });
  [ann, bob, cid, dan, anon] = [0, 1, 2, 3, 4].map(() => new Client(t.base));
  for (const [c, name] of [[ann, 'ann'], [bob, 'bob'], [cid, 'cid'], [dan, 'dan']] as const) {
    users[name] = (await c.signup(name)).body.user.id;
  }
  await befriend(ann, bob, 'bob');
  await befriend(ann, dan, 'dan');
  ids.ann1 = await addRecording('ann', 'ann_20261101T100000_000Z.wav', '2026-11-01T10:00:00.000Z', 2);
  ids.ann2 = await addRecording('ann', 'ann_20261102T100000_000Z.wav', '2026-11-02T10:00:00.000Z');
  ids.bob1 = await addRecording('bob', 'bob_20261103T100000_000Z.wav', '2026-11-03T10:00:00.000Z');
  ids.cid1 = await addRecording('cid', 'cid_20261104T100000_000Z.wav', '2026-11-04T10:00:00.000Z');
  ids.annLive = await addRecording('ann', 'ann_20261105T100000_000Z.wav', '2026-11-05T10:00:00.000Z', 1, 'recording');
});
after(async () => {
  await t?.close();
});

test('the list holds the caller\'s and friends\' finished recordings, newest first, with the API fields', async () => {
  const r = await ann.get('/api/recordings/');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.recordings.map((x: { id: number }) => x.id), [ids.bob1, ids.ann2, ids.ann1]);
  assert.equal(r.body.next_before, null);
  const first = r.body.recordings[2];
  assert.deepEqual(first, {
    id: ids.ann1,
    owner: 'ann',
    started_at: '2026-11-01T10:00:00.000Z',
    ended_at: '2026-11-01T10:00:00.000Z',
    duration_ms: 2000,
    size_bytes: 44 + 2 * 96000,
    sample_rate: 48000,
    engine: 'none',
    status: 'complete',
    has_raw: false,
  });
  const c = await cid.get('/api/recordings/');
  assert.deepEqual(c.body.recordings.map((x: { id: number }) => x.id), [ids.cid1]);
});

test('the list paginates with next_before and filters by owner; unknown and non-friend owners give an empty list', async () => {
  const p1 = await ann.get('/api/recordings/?limit=2');
  assert.equal(p1.body.recordings.length, 2);
  assert.equal(p1.body.next_before, ids.ann2);
  const p2 = await ann.get(`/api/recordings/?limit=2&before=${p1.body.next_before}`);
  assert.deepEqual(p2.body.recordings.map((x: { id: number }) => x.id), [ids.ann1]);
  assert.equal(p2.body.next_before, null);
  const own = await bob.get('/api/recordings/?owner=ANN');
  assert.deepEqual(own.body.recordings.map((x: { owner: string }) => x.owner), ['ann', 'ann']);
  for (const owner of ['cid', 'nobody']) {
    const r = await ann.get(`/api/recordings/?owner=${owner}`);
    assert.deepEqual(r.body, { recordings: [], next_before: null }, owner);
  }
});

test('bad list parameters are a 400 VALIDATION naming the field; signed out is 401', async () => {
  for (const [q, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=x', 'limit'], ['before=-3', 'before']]) {
    const r = await ann.get(`/api/recordings/?${q}`);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error.code, 'VALIDATION');
    assert.match(r.body.error.message, new RegExp(field!));
  }
  assert.equal((await anon.get('/api/recordings/')).status, 401);
  assert.equal((await anon.get(`/api/recordings/${ids.ann1}/audio`)).status, 401);
});

async function fetchAudio(c: Client, id: number, headers: Record<string, string> = {}, query = ''): Promise<Response> {
  return fetch(`${t.base}/api/recordings/${id}/audio${query}`, { headers: { cookie: c.cookie, ...headers } });
}

test('audio is served whole with Content-Type audio/wav, Content-Length and Accept-Ranges', async () => {
  const file = readFileSync(path.join(t.config.recordingsDir, 'ann_20261101T100000_000Z.wav'));
  const r = await fetchAudio(bob, ids.ann1);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  assert.equal(r.headers.get('content-length'), String(file.length));
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.equal(r.headers.get('content-disposition'), null);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), file);
});

test('Range requests return 206 with the exact bytes: first bytes, middle, open end and suffix', async () => {
  const file = readFileSync(path.join(t.config.recordingsDir, 'ann_20261101T100000_000Z.wav'));
  const size = file.length;
  for (const [range, start, end] of [
    ['bytes=0-43', 0, 43],
    ['bytes=100000-100999', 100000, 100999],
    [`bytes=${size - 10}-`, size - 10, size - 1],
    ['bytes=-100', size - 100, size - 1],
    [`bytes=5-${size + 1000}`, 5, size - 1],
  ] as const) {
    const r = await fetchAudio(ann, ids.ann1, { range });
    assert.equal(r.status, 206, range);
    assert.equal(r.headers.get('content-range'), `bytes ${start}-${end}/${size}`, range);
    assert.equal(r.headers.get('content-length'), String(end - start + 1), range);
    assert.equal(r.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), file.subarray(start, end + 1), range);
  }
});

test('an unsatisfiable or malformed range is 416 with Content-Range bytes */size', async () => {
  const size = readFileSync(path.join(t.config.recordingsDir, 'ann_20261101T100000_000Z.wav')).length;
  for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=abc', 'bytes=10-5', 'bytes=-0', 'bytes=']) {
    const r = await fetchAudio(ann, ids.ann1, { range });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get('content-range'), `bytes */${size}`, range);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'RANGE_NOT_SATISFIABLE');
  }
});

test('HEAD answers the audio headers without a body', async () => {
  const size = readFileSync(path.join(t.config.recordingsDir, 'ann_20261101T100000_000Z.wav')).length;
  const r = await fetch(`${t.base}/api/recordings/${ids.ann1}/audio`, { method: 'HEAD', headers: { cookie: ann.cookie } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-length'), String(size));
  assert.equal(r.headers.get('accept-ranges'), 'bytes');
  assert.equal((await r.arrayBuffer()).byteLength, 0);
});

test('?download=1 adds Content-Disposition: attachment with the file name', async () => {
  const r = await fetchAudio(ann, ids.ann2, {}, '?download=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-disposition'), 'attachment; filename="ann_20261102T100000_000Z.wav"');
  await r.arrayBuffer();
});

test('access: owner and friend may play; a stranger and an unknown id get the same 404; a bad id is 400', async () => {
  assert.equal((await fetchAudio(ann, ids.bob1)).status, 200);
  assert.equal((await fetchAudio(bob, ids.bob1)).status, 200);
  const stranger = await fetchAudio(cid, ids.ann1);
  const unknown = await fetchAudio(cid, 987654);
  assert.equal(stranger.status, 404);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await stranger.json(), await unknown.json());
  assert.equal((await fetchAudio(ann, 'abc' as unknown as number)).status, 400);
});

test('an ex-friend loses access to the recordings at once', async () => {
  assert.equal((await fetchAudio(dan, ids.ann1)).status, 200);
  const r = await dan.delete('/api/friends/ann');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await fetchAudio(dan, ids.ann1)).status, 404);
  assert.deepEqual((await dan.get('/api/recordings/')).body.recordings, []);
  assert.equal((await dan.delete(`/api/recordings/${ids.ann1}`)).status, 404);
});

test('delete: a friend is refused with 403 NOT_OWNER, a stranger with 404, and nothing changes', async () => {
  const before = await snapshot(t.db);
  const friend = await bob.delete(`/api/recordings/${ids.ann2}`);
  assert.equal(friend.status, 403);
  assert.equal(friend.body.error.code, 'NOT_OWNER');
  const stranger = await cid.delete(`/api/recordings/${ids.ann2}`);
  assert.equal(stranger.status, 404);
  const noOrigin = new Client(t.base, null);
  noOrigin.cookie = ann.cookie;
  assert.equal((await noOrigin.delete(`/api/recordings/${ids.ann2}`)).status, 403, 'CSRF: no Origin');
  assert.deepEqual(await snapshot(t.db), before);
  assert.ok(existsSync(path.join(t.config.recordingsDir, 'ann_20261102T100000_000Z.wav')));
});

test('delete of a recording still being made is a 409', async () => {
  const r = await ann.delete(`/api/recordings/${ids.annLive}`);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, 'RECORDING_IN_PROGRESS');
});

test('the owner deletes a recording: row and file are gone, and a second delete is 404', async () => {
  const r = await ann.delete(`/api/recordings/${ids.ann2}`);
  assert.equal(r.status, 200);
  assert.equal(typeof r.body.message, 'string');
  assert.ok(!existsSync(path.join(t.config.recordingsDir, 'ann_20261102T100000_000Z.wav')));
  assert.equal((await fetchAudio(ann, ids.ann2)).status, 404);
  assert.ok(!(await ann.get('/api/recordings/')).body.recordings.some((x: { id: number }) => x.id === ids.ann2));
  assert.equal((await ann.delete(`/api/recordings/${ids.ann2}`)).status, 404);
});

test("a deletion reaches the owner's other tabs and friends live (recording_deleted), but not a stranger", async () => {
  const id = await addRecording('ann', 'ann_20261107T100000_000Z.wav', '2026-11-07T10:00:00.000Z');
  const sockets = await Promise.all([ann.socket(), bob.socket(), cid.socket()]);
  const [annTab, bobTab, cidTab] = sockets;
  try {
    for (const s of sockets) await s.next((m) => m.type === 'hello');
    assert.equal((await ann.delete(`/api/recordings/${id}`)).status, 200);
    assert.deepEqual(await annTab!.next((m) => m.type === 'recording_deleted'), { type: 'recording_deleted', id });
    assert.deepEqual(await bobTab!.next((m) => m.type === 'recording_deleted'), { type: 'recording_deleted', id });
    await cidTab!.assertNone((m) => m.type === 'recording_deleted');
  } finally {
    for (const s of sockets) await s.close();
  }
});

test('the waveform overview is served to owner and friends only, with the duration', async () => {
  const r = await bob.get(`/api/recordings/${ids.ann1}/peaks?buckets=50`);
  assert.equal(r.status, 200);
  assert.equal(r.body.duration_ms, 2000);
  assert.equal(r.body.sample_rate, 48000);
  assert.equal(r.body.peaks.length, 50);
  assert.ok(r.body.peaks.every((v: number) => v > 0.25 && v <= 0.31), JSON.stringify(r.body.peaks));
  assert.equal((await cid.get(`/api/recordings/${ids.ann1}/peaks`)).status, 404);
  assert.equal((await bob.get(`/api/recordings/${ids.ann1}/peaks?buckets=0`)).status, 400);
});

test('?raw=1 serves the un-denoised companion when it was kept, 404 otherwise; delete removes both files', async () => {
  const name = 'ann_20261106T100000_000Z.wav';
  const rawName = 'ann_20261106T100000_000Z.raw.wav';
  const main = record(name, 1);
  record(rawName, 1);
  const id = await createRecording(t.db, { ownerId: users.ann!, fileName: name, rawFileName: rawName, startedAt: '2026-11-06T10:00:00.000Z', sampleRate: 48000, engine: 'rnnoise' });
  await finalizeRecording(t.db, id, { endedAt: '2026-11-06T10:00:01.000Z', durationMs: main.durationMs, sizeBytes: main.sizeBytes, status: 'complete' });
  const listed = (await bob.get('/api/recordings/?owner=ann')).body.recordings.find((r: { id: number }) => r.id === id);
  assert.equal(listed.has_raw, true);
  const raw = await fetchAudio(bob, id, {}, '?raw=1&download=1');
  assert.equal(raw.status, 200);
  assert.equal(raw.headers.get('content-disposition'), `attachment; filename="${rawName}"`);
  assert.deepEqual(Buffer.from(await raw.arrayBuffer()), readFileSync(path.join(t.config.recordingsDir, rawName)));
  const none = await fetchAudio(bob, ids.bob1, {}, '?raw=1');
  assert.equal(none.status, 404);
  await none.arrayBuffer();
  assert.equal((await ann.delete(`/api/recordings/${id}`)).status, 200);
  assert.ok(!existsSync(path.join(t.config.recordingsDir, rawName)));
  assert.ok(!existsSync(path.join(t.config.recordingsDir, name)));
});
