// Pages and states pass axe-core (WCAG 2.2 A/AA rules) with no serious or
// critical violation, in the light and dark theme, at desktop and phone size.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import {
  type TestServer,
  type TestUser,
  closeUser,
  launchChromium,
  makeFriends,
  newUser,
  openFriendPage,
  startServer,
  waitForPresence,
} from './support/index.js';

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const THEMES = ['light', 'dark'] as const;

let server: TestServer;
let browser: Browser;
let ann: TestUser;
let bobName: string;
let catName: string;

before(async () => {
  server = await startServer({ env: { DENOISE_ENGINE: 'none' } });
  browser = await launchChromium();
  // ann has an offline friend (bob) and a pending request (from cat).
  ann = await newUser(browser, server, { prefix: 'ann', via: 'api' });
  const bob = await newUser(browser, server, { prefix: 'bob', via: 'api' });
  const cat = await newUser(browser, server, { prefix: 'cat', via: 'api' });
  bobName = bob.username;
  catName = cat.username;
  await makeFriends(server, ann, bob);
  await closeUser(bob);
  await cat.page.evaluate(async (to) => {
    await fetch('/api/friends/requests', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: to }) });
  }, ann.username);
  await closeUser(cat);
});
after(async () => {
  await closeUser(ann);
  await browser?.close();
  await server?.close();
});

async function violations(page: Page, where: string): Promise<string[]> {
  const result = await new AxeBuilder({ page: page as never }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
}

describe('accessibility (axe-core, WCAG 2.2 AA)', () => {
  for (const [sizeName, viewport] of Object.entries(SIZES)) {
    for (const theme of THEMES) {
      it(`${sizeName} size, ${theme} theme: sign-in, home with an offline friend and a request, friend page`, async () => {
        const found: string[] = [];
        const signedOut = await browser.newContext({ baseURL: server.baseUrl, viewport, colorScheme: theme });
        const out = await signedOut.newPage();
        await out.goto('/signin');
        await out.getByRole('button', { name: /sign in/i }).first().waitFor();
        found.push(...(await violations(out, 'sign-in')));
        await signedOut.close();

        const context = await browser.newContext({ baseURL: server.baseUrl, viewport, colorScheme: theme, storageState: await ann.context.storageState() });
        try {
          const page = await context.newPage();
          await page.goto('/');
          await waitForPresence(page, bobName, 'offline');
          await page.locator(`text=${catName}`).first().waitFor();
          found.push(...(await violations(page, 'home')));
          await openFriendPage(page, bobName);
          found.push(...(await violations(page, 'friend page')));
        } finally {
          await context.close();
        }
        assert.deepEqual(found, []);
      });
    }
  }
});
