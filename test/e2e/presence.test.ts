// Issue 2 in a real browser: sign-up, friend requests and their answers in real
// time, presence badges (offline/online), the 1-second offline flip, and the
// polling fallback while the WebSocket is down.
//
// Set HUSHCAST_E2E_SCREENSHOTS=<dir> to save screenshots of the main page.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Request } from 'playwright-core';
import {
  type TestServer,
  type TestUser,
  apiCall,
  closeUser,
  friendBadge,
  makeFriends,
  newUser,
  openFriendPage,
  openHome,
  startServer,
  launchChromium,
  submitSignIn,
  waitForPresence,
} from './support/index.js';

const SCREENSHOTS = process.env.HUSHCAST_E2E_SCREENSHOTS;

let server: TestServer;
let browser: Browser;
const users: TestUser[] = [];

async function user(prefix: string, via: 'ui' | 'api' = 'api'): Promise<TestUser> {
  const u = await newUser(browser, server, { prefix, via });
  users.push(u);
  return u;
}

/** API requests a page makes from now on (path only). */
function recordApiRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r: Request) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/api/')) seen.push(p);
  });
  return seen;
}

async function screenshot(page: Page, name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const T = { timeout: 60_000 };

describe('presence and friends in the browser', () => {
  before(async () => {
    // No media plane: these flows never stream, and the worker pool would only cost CPU.
    server = await startServer({ deps: { media: null } });
    browser = await launchChromium();
  });

  after(async () => {
    for (const u of users) await closeUser(u);
    await browser?.close();
    await server?.close();
  });

  test('a friend request sent in one context arrives live in the other; accepting makes both see each other online', T, async () => {
    const ann = await user('ann', 'ui');
    const bob = await user('bob', 'ui');
    await bob.page.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    const bobApi = recordApiRequests(bob.page);

    await ann.page.getByTestId('add-friend-input').fill(bob.username);
    await ann.page.getByTestId('add-friend-submit').click();
    await ann.page.getByTestId('add-friend-message').waitFor();
    await ann.page.getByTestId(`outgoing-${bob.username}`).waitFor();

    // Bob does nothing: the request must be pushed to him over the WebSocket.
    await bob.page.getByTestId(`incoming-${ann.username}`).waitFor();
    const asked = bobApi.filter((p) => p.startsWith('/api/friends') || p.startsWith('/api/stream/status'));
    assert.deepEqual(asked, [], 'the request reached Bob without his page asking the server');
    assert.equal(await bob.page.getByTestId('requests-pending').textContent(), '1 new');

    await bob.page.getByTestId(`accept-${ann.username}`).click();
    await bob.page.getByTestId('requests-message').waitFor();
    await waitForPresence(bob.page, ann.username, 'online');
    await waitForPresence(ann.page, bob.username, 'online');
    assert.equal(await ann.page.getByTestId(`outgoing-${bob.username}`).count(), 0);
    assert.equal(await bob.page.getByTestId(`incoming-${ann.username}`).count(), 0);
    assert.equal(await bob.page.getByTestId(`listen-${ann.username}`).count(), 0, 'no Listen link while not live');
    await screenshot(ann.page, 'main-page');
    assert.deepEqual([...ann.errors, ...bob.errors], []);
  });

  test("closing a user's browser context flips the friend's badge to offline within 1 s of the close call", T, async () => {
    const cat = await user('cat');
    const dan = await user('dan');
    await makeFriends(server, cat, dan);
    await waitForPresence(cat.page, dan.username, 'online');

    // The page notes the moment the badge turns offline, so Playwright's polling adds nothing.
    // (A string, not a function: tsx would wrap named closures in a helper the page lacks.)
    await cat.page.evaluate(`
      window.__offlineAt = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          const badge = document.querySelector('[data-testid="friend-badge-${dan.username}"]');
          if (badge && badge.dataset.presence === 'offline') {
            observer.disconnect();
            resolve(Date.now());
          }
        });
        observer.observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      true; // evaluate() would otherwise wait for the promise
    `);
    const closedAt = Date.now();
    await dan.context.close();
    const offlineAt = (await cat.page.evaluate('window.__offlineAt')) as number;
    const flipMs = offlineAt - closedAt;
    console.log(`# offline badge flip after context close: ${flipMs} ms`);
    // Product requirement from issue 2 (the one wall-clock bound kept on purpose).
    assert.ok(flipMs <= 1000, `badge flipped after ${flipMs} ms`);
  });

  test('declining a request removes it on both sides, live, with a message', T, async () => {
    const eve = await user('eve');
    const fay = await user('fay');
    await eve.page.getByTestId('add-friend-input').fill(fay.username);
    await eve.page.getByTestId('add-friend-submit').click();
    await eve.page.getByTestId(`outgoing-${fay.username}`).waitFor();
    await fay.page.getByTestId(`decline-${eve.username}`).click();
    await fay.page.getByTestId('requests-message').waitFor();
    await fay.page.getByTestId(`incoming-${eve.username}`).waitFor({ state: 'detached' });
    await eve.page.getByTestId(`outgoing-${fay.username}`).waitFor({ state: 'detached' });
    assert.equal(await fay.page.getByTestId(`friend-${eve.username}`).count(), 0);
    assert.equal(await eve.page.getByTestId(`friend-${fay.username}`).count(), 0);
  });

  test('cancelling a sent request removes it from the recipient, live', T, async () => {
    const gus = await user('gus');
    const hal = await user('hal');
    await gus.page.getByTestId('add-friend-input').fill(hal.username);
    await gus.page.getByTestId('add-friend-submit').click();
    await hal.page.getByTestId(`incoming-${gus.username}`).waitFor();
    await gus.page.getByTestId(`cancel-${hal.username}`).click();
    await gus.page.getByTestId('requests-message').waitFor();
    await gus.page.getByTestId(`outgoing-${hal.username}`).waitFor({ state: 'detached' });
    await hal.page.getByTestId(`incoming-${gus.username}`).waitFor({ state: 'detached' });
    await hal.page.getByTestId('incoming-empty').waitFor();
  });

  test("a user's other tab follows the requests they send and cancel, live", T, async () => {
    const kim = await user('kim');
    const lou = await user('lou');
    const kimTab2 = await kim.context.newPage();
    await openHome(kimTab2);
    await kimTab2.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    await kimTab2.getByTestId('outgoing-empty').waitFor();

    await kim.page.getByTestId('add-friend-input').fill(lou.username);
    await kim.page.getByTestId('add-friend-submit').click();
    await kim.page.getByTestId(`outgoing-${lou.username}`).waitFor();
    await kimTab2.getByTestId(`outgoing-${lou.username}`).waitFor({ timeout: 5000 }); // friend_request_sent
    assert.equal(await kimTab2.getByTestId(`outgoing-${lou.username}`).count(), 1, 'listed once');

    await kim.page.getByTestId(`cancel-${lou.username}`).click();
    await kimTab2.getByTestId(`outgoing-${lou.username}`).waitFor({ state: 'detached', timeout: 5000 }); // friend_request_removed
    await lou.page.getByTestId(`incoming-${kim.username}`).waitFor({ state: 'detached', timeout: 5000 });

    // The recipient's other tab follows a decline the same way.
    const louTab2 = await lou.context.newPage();
    await openHome(louTab2);
    await louTab2.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    await kim.page.getByTestId('add-friend-input').fill(lou.username);
    await kim.page.getByTestId('add-friend-submit').click();
    await louTab2.getByTestId(`incoming-${kim.username}`).waitFor({ timeout: 5000 });
    await lou.page.getByTestId(`decline-${kim.username}`).click();
    await louTab2.getByTestId(`incoming-${kim.username}`).waitFor({ state: 'detached', timeout: 5000 });
    await kimTab2.getByTestId(`outgoing-${lou.username}`).waitFor({ state: 'detached', timeout: 5000 });
    await kimTab2.close();
    await louTab2.close();
    assert.deepEqual([...kim.errors, ...lou.errors], []);
  });

  test('removing a friend asks for confirmation, then updates both lists live', T, async () => {
    const ivy = await user('ivy');
    const jon = await user('jon');
    await makeFriends(server, ivy, jon);
    await waitForPresence(ivy.page, jon.username, 'online');
    await waitForPresence(jon.page, ivy.username, 'online');

    await ivy.page.getByTestId(`remove-${jon.username}`).click();
    // "Keep" backs out and nothing changes.
    await ivy.page.getByTestId(`keep-${jon.username}`).click();
    await ivy.page.getByTestId(`remove-${jon.username}`).click();
    // Focus lands on the confirmation so a keyboard user can answer with Enter.
    // (Focus moves in an effect after the render, so wait for it rather than sampling once.)
    const expected = `confirm-remove-${jon.username}`;
    await ivy.page
      .waitForFunction((id) => document.activeElement?.getAttribute('data-testid') === id, expected, { timeout: 5000 })
      .catch(() => undefined);
    const focused = await ivy.page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
    assert.equal(focused, expected);
    await ivy.page.keyboard.press('Enter');
    await ivy.page.getByTestId('friends-message').waitFor();
    await ivy.page.getByTestId(`friend-${jon.username}`).waitFor({ state: 'detached' });
    await jon.page.getByTestId(`friend-${ivy.username}`).waitFor({ state: 'detached' });
    await jon.page.getByTestId('friends-empty').waitFor();
  });

  test('a request to an unknown user shows the server message inline and sends nothing', T, async () => {
    const kim = await user('kim');
    await kim.page.getByTestId('add-friend-input').fill('nobody_by_this_name');
    await kim.page.getByTestId('add-friend-submit').click();
    const err = kim.page.getByTestId('add-friend-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /\S/);
    assert.equal(await kim.page.getByTestId('outgoing-empty').count(), 1);
  });

  test('sign-in with a wrong password shows the error inline and stays on the sign-in page', T, async () => {
    const lou = await user('lou');
    await lou.page.getByTestId('sign-out').click();
    await lou.page.getByTestId('auth-form').waitFor();
    await submitSignIn(lou.page, lou.username, 'not the password');
    const err = lou.page.getByTestId('auth-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('role'), 'alert');
    assert.match((await err.textContent()) ?? '', /\S/);
    assert.equal(await lou.page.getByTestId('home-page').count(), 0);
    // And the right password gets in.
    await submitSignIn(lou.page, lou.username, lou.password);
    await lou.page.getByTestId('home-page').waitFor();
  });

  test('the friend page shows the friend status live and leaves room for the live and recordings sections', T, async () => {
    const max = await user('max');
    const ned = await user('ned');
    await makeFriends(server, max, ned);
    await waitForPresence(max.page, ned.username, 'online');
    await max.page.getByTestId(`friend-link-${ned.username}`).click();
    await max.page.locator(`[data-testid="friend-page"][data-relation="friend"]`).waitFor();
    await max.page.locator('[data-testid="friend-page-badge"][data-presence="online"]').waitFor();
    await closeUser(ned);
    await max.page.locator('[data-testid="friend-page-badge"][data-presence="offline"]').waitFor();
    // A stranger's page offers a request instead.
    const ola = await user('ola');
    await openFriendPage(max.page, ola.username);
    await max.page.locator('[data-testid="friend-page"][data-relation="none"]').waitFor();
    await max.page.getByTestId('friend-page-request').click();
    await max.page.locator('[data-testid="friend-page"][data-relation="outgoing"]').waitFor();
    await ola.page.getByTestId(`incoming-${max.username}`).waitFor();
  });

  test('with the WebSocket blocked the page polls /api/stream/status/ and badges still update; polling stops once the socket is back', T, async () => {
    const pat = await user('pat');
    const quin = await user('quin');
    await makeFriends(server, pat, quin);
    await waitForPresence(pat.page, quin.username, 'online');

    let blocked = true;
    await pat.context.routeWebSocket(/\/ws$/, (ws) => {
      if (blocked) ws.close({ code: 1011, reason: 'blocked by the test' });
      else ws.connectToServer();
    });
    const polls = () => api.filter((p) => p === '/api/stream/status/').length;
    const api = recordApiRequests(pat.page);
    await openHome(pat.page);
    await pat.page.locator('[data-testid="connection-status"][data-state="down"]').waitFor();
    await waitForPresence(pat.page, quin.username, 'online');

    await closeUser(quin);
    await waitForPresence(pat.page, quin.username, 'offline');
    // Quin comes back in a new context: the badge follows by polling too.
    const quinContext = await browser.newContext({ baseURL: server.baseUrl });
    await apiCall(quinContext, server, 'POST', '/api/auth/signin', { username: quin.username, password: quin.password });
    const quinPage = await quinContext.newPage();
    users.push({ ...quin, context: quinContext, page: quinPage });
    await openHome(quinPage);
    await waitForPresence(pat.page, quin.username, 'online');
    assert.ok(polls() >= 2, `polled ${polls()} times while the socket was down`);
    assert.equal(await pat.page.getByTestId('connection-status').getAttribute('data-state'), 'down');

    // The network is back: the socket reconnects (the browser's "online" event skips the back-off) and polling stops.
    blocked = false;
    await pat.page.evaluate(() => window.dispatchEvent(new Event('online')));
    await pat.page.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    await pat.page.waitForTimeout(500); // the resync after hello
    const afterReconnect = polls();
    await pat.page.waitForTimeout(3_500); // longer than one poll interval
    assert.equal(polls(), afterReconnect, 'no polling while the socket is up');
    // And live updates flow again over the socket.
    await quinContext.close();
    await waitForPresence(pat.page, quin.username, 'offline');
  });
  test('a socket that stops answering pings is dropped and redialled; one that answers stays up', T, async () => {
    const rae = await user('rae');
    // Fake timers in the page: heartbeat and back-off run in fast-forward, the network stays real.
    await rae.context.clock.install();
    let sockets = 0;
    let dropPings = false;
    let pongs = 0;
    await rae.context.routeWebSocket(/\/ws$/, (ws) => {
      sockets++;
      const srv = ws.connectToServer();
      ws.onMessage((m) => {
        if (dropPings && String(m).includes('"ping"')) return; // a dead path: the ping never arrives
        srv.send(m);
      });
      srv.onMessage((m) => {
        if (String(m).includes('"pong"')) pongs++;
        ws.send(m);
      });
    });
    const status = rae.page.getByTestId('connection-status');
    await openHome(rae.page);
    await rae.page.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    assert.equal(sockets, 1);

    // Answered pings: the socket stays.
    await rae.page.clock.fastForward(10_000);
    // The pong's round trip runs on the real network: wait for it, not for a guess of its time.
    const deadline = Date.now() + 10_000;
    while (pongs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pongs, 1, 'the server answered the ping');
    await rae.page.clock.fastForward(6_000);
    assert.equal(await status.getAttribute('data-state'), 'open');
    assert.equal(sockets, 1);

    // Unanswered ping: after the answer deadline the socket is dropped and redialled.
    dropPings = true;
    await rae.page.clock.fastForward(10_000);
    await rae.page.clock.fastForward(5_000);
    await rae.page.locator('[data-testid="connection-status"][data-state="down"]').waitFor();
    dropPings = false;
    await rae.page.clock.fastForward(1_000); // first back-off step is at most 0.5 s
    await rae.page.locator('[data-testid="connection-status"][data-state="open"]').waitFor();
    assert.equal(sockets, 2);
  });
});
