// Signed-in users for e2e tests: one browser context (own cookie jar) and one page each.
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { TestServer } from './server.js';

export interface TestUser {
  readonly username: string;
  readonly password: string;
  readonly context: BrowserContext;
  readonly page: Page;
  /** Uncaught page errors and console.error lines, for assertions and failure messages. */
  readonly errors: string[];
}

export interface NewUserOptions {
  /** Default: a unique name from `prefix` (default 'user'). */
  username?: string;
  prefix?: string;
  password?: string;
  /** 'ui' (default): fill in the sign-up form. 'api': POST /api/auth/signup with the context's cookie jar, then open the app. */
  via?: 'ui' | 'api';
  /** Extra browser-context options (viewport, permissions, …). */
  contextOptions?: Parameters<Browser['newContext']>[0];
}

let counter = 0;

/** A fresh, valid username: lower-case, ≤ 30 chars, unique within this process and across runs. */
export function uniqueUsername(prefix = 'user'): string {
  counter++;
  const tail = `${Date.now().toString(36).slice(-5)}${counter.toString(36)}`;
  return `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '').slice(0, 30 - tail.length - 1)}_${tail}`;
}

/** Opens a new context + page, signs a new user up and waits until the main page shows. */
export async function newUser(browser: Browser, server: TestServer, opts: NewUserOptions = {}): Promise<TestUser> {
  const username = opts.username ?? uniqueUsername(opts.prefix);
  const password = opts.password ?? 'correct horse battery';
  const context = await browser.newContext({ baseURL: server.baseUrl, ...opts.contextOptions });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs every 4xx as "Failed to load resource"; expected refusals (401 before sign-in) are not page errors.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  if ((opts.via ?? 'ui') === 'api') {
    await apiCall(context, server, 'POST', '/api/auth/signup', { username, password });
    await openHome(page);
  } else {
    await page.goto('/signup');
    await signUpViaUi(page, username, password);
  }
  return { username, password, context, page, errors };
}

export async function signUpViaUi(page: Page, username: string, password: string): Promise<void> {
  await page.getByTestId('auth-form').and(page.locator('[data-mode="signup"]')).waitFor();
  await page.getByTestId('auth-username').fill(username);
  await page.getByTestId('auth-password').fill(password);
  await page.getByTestId('auth-submit').click();
  await page.getByTestId('home-page').waitFor();
}

/** Fills the sign-in form (the page must show it) and submits; does not wait for success (errors are tests too). */
export async function submitSignIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByTestId('auth-form').and(page.locator('[data-mode="signin"]')).waitFor();
  await page.getByTestId('auth-username').fill(username);
  await page.getByTestId('auth-password').fill(password);
  await page.getByTestId('auth-submit').click();
}

/** Goes to the main page and waits until the friends list is loaded. */
export async function openHome(page: Page): Promise<void> {
  await page.goto('/');
  await page.getByTestId('home-page').waitFor();
  await page.locator('[data-testid="friends-list"], [data-testid="friends-empty"]').first().waitFor();
}

/** Goes to a friend's page (/friends/:username). */
export async function openFriendPage(page: Page, username: string): Promise<void> {
  await page.goto(`/friends/${encodeURIComponent(username)}`);
  await page.getByTestId('friend-page').waitFor();
}

/** A state-changing or reading API call with the context's cookies and a same-origin Origin header; throws on non-2xx. */
export async function apiCall<T = unknown>(
  context: BrowserContext,
  server: TestServer,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await context.request.fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { Origin: server.baseUrl },
    data: body,
  });
  const text = await res.text();
  if (!res.ok()) throw new Error(`${method} ${path} → ${res.status()}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Makes `a` and `b` friends through the API (a requests, b accepts). Pages update by WebSocket. */
export async function makeFriends(server: TestServer, a: TestUser, b: TestUser): Promise<void> {
  const sent = await apiCall<{ request?: { id: number } }>(a.context, server, 'POST', '/api/friends/requests', { username: b.username });
  if (!sent.request) return; // b had already asked a: the request became a friendship
  await apiCall(b.context, server, 'POST', `/api/friends/requests/${sent.request.id}/accept`);
}

/** The badge of `friend` in the main page's friends list; its data-presence is offline | online | live. */
export function friendBadge(page: Page, friend: string): Locator {
  return page.getByTestId(`friend-badge-${friend}`);
}

/** Waits until the friends list shows `friend` with the given presence. */
export async function waitForPresence(page: Page, friend: string, presence: 'offline' | 'online' | 'live', timeout = 10_000): Promise<void> {
  await page.locator(`[data-testid="friend-badge-${friend}"][data-presence="${presence}"]`).waitFor({ timeout });
}

/** Closes a user's context (all its tabs: its WebSockets close). Safe to call twice. */
export async function closeUser(user: TestUser): Promise<void> {
  await user.context.close().catch(() => undefined);
}
