// Bounds on the presence WebSocket over real sockets: sessions that end close
// their sockets, expired rows are purged, sockets per user and messages per
// socket are capped, and a client's oversized message is not a server error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { Client, type TestApp, type TestSocket, startTestApp } from '../support/test-app.js';

/** Opens /ws and reports whichever comes first: the server's hello, or a close with its code and reason. */
function outcome(c: Client): Promise<string> {
  const ws = new WebSocket(c.base.replace(/^http/, 'ws') + '/ws', { headers: { cookie: c.cookie, origin: c.base } });
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(`hello ${JSON.parse(m.toString()).type === 'hello'}`));
    ws.once('close', (code, reason) => resolve(`closed ${code} ${reason.toString()}`));
  });
}

function count(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

describe('sessions that end', () => {
  let t: TestApp;
  const sockets: TestSocket[] = [];
  before(async () => {
    t = await startTestApp();
  });
  after(async () => {
    for (const s of sockets) await s.close();
    await t.close();
  });

  test('a purge deletes expired session rows, keeps live ones, and closes the expired session’s open socket with 4401 "session expired"', { timeout: 30_000 }, async () => {
    const expired = new Client(t.base);
    const expiredId = (await expired.signup('expiring')).body.user.id;
    const live = new Client(t.base);
    const liveId = (await live.signup('staying')).body.user.id;
    const se = await expired.socket();
    const sl = await live.socket();
    sockets.push(se, sl);
    await se.next((m) => m.type === 'hello');
    await sl.next((m) => m.type === 'hello');
    await t.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('user_id', '=', expiredId).execute();
    assert.equal(await t.app.services.sessionPurger.run(), 1);
    await se.closed;
    assert.deepEqual([se.closeCode, se.closeReason], [4401, 'session expired']);
    assert.deepEqual(await t.db.selectFrom('sessions').select('user_id').where('user_id', 'in', [expiredId, liveId]).execute(), [{ user_id: liveId }]);
    await sl.assertNone(() => false);
    assert.equal(sl.closeCode, null, 'the live session’s socket stays open');
  });

  test('a socket closes with 4401 "session expired" by itself when its session’s time is up', { timeout: 30_000 }, async () => {
    const short = await startTestApp({ sessionTtlHours: 2 / 3600 });
    try {
      const c = new Client(short.base);
      await c.signup('short_lived');
      const s = await c.socket();
      await s.next((m) => m.type === 'hello');
      await s.closed;
      assert.deepEqual([s.closeCode, s.closeReason], [4401, 'session expired']);
    } finally {
      await short.close();
    }
  });
});

test('expired session rows are purged periodically', async () => {
  const t = await startTestApp({}, { sessionPurgeMs: 50 });
  try {
    const c = new Client(t.base);
    const id = (await c.signup('periodic')).body.user.id;
    await t.db
      .insertInto('sessions')
      .values({ id: 'stale-session', user_id: id, created_at: '2000-01-01T00:00:00.000Z', expires_at: '2000-01-02T00:00:00.000Z' })
      .execute();
    await t.app.services.sessionPurger.nextRun();
    const rows = await t.db.selectFrom('sessions').select('id').where('user_id', '=', id).execute();
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.id, 'stale-session');
  } finally {
    await t.close();
  }
});

describe('caps per user and per socket', () => {
  let t: TestApp;
  const frozen = 1_000_000;
  before(async () => {
    t = await startTestApp({ wsMaxPerUser: 20, wsMaxMessagesPerSecond: 20 }, { now: () => frozen });
  });
  after(() => t.close());

  test('30 parallel sockets of one user: exactly 20 are accepted, 10 close with 4409 "too many connections"', async () => {
    const c = new Client(t.base);
    await c.signup('many_tabs');
    const results = await Promise.all(Array.from({ length: 30 }, () => outcome(c)));
    assert.deepEqual(count(results), { 'hello true': 20, 'closed 4409 too many connections': 10 });
  });

  test('a socket sending 100 pings within one second gets exactly 20 pongs, then closes with 4429 "too many messages"', { timeout: 30_000 }, async () => {
    const c = new Client(t.base);
    await c.signup('chatty');
    const s = await c.socket();
    await s.next((m) => m.type === 'hello');
    for (let i = 0; i < 100; i++) s.send({ type: 'ping' });
    await s.closed;
    assert.deepEqual([s.closeCode, s.closeReason], [4429, 'too many messages']);
    assert.equal(s.messages.filter((m) => m.type === 'pong').length, 20);
  });
});

test('a message over 4 KiB closes with 1009 and is logged as a client mistake: nothing at warn or error level, no stack', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const t = await startTestApp({ logLevel: 'debug' }, { logStream: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  try {
    const c = new Client(t.base);
    await c.signup('big_talker');
    const s = await c.socket();
    await s.next((m) => m.type === 'hello');
    const from = lines.length;
    s.send({ type: 'ping', pad: 'x'.repeat(5000) });
    await s.closed;
    assert.equal(s.closeCode, 1009);
    // The server logs before it drops the connection, so every line about it is in `lines` by now.
    const since = lines.slice(from);
    const aboutIt = since.filter((l) => JSON.stringify(l).includes('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'));
    assert.ok(aboutIt.length >= 1, 'the client mistake is logged (at debug level)');
    assert.deepEqual(
      since.filter((l) => (l.level as number) >= 40).map((l) => l.msg),
      [],
    );
    assert.equal(aboutIt.filter((l) => JSON.stringify(l).includes('"stack"')).length, 0);
  } finally {
    await t.close();
  }
});
