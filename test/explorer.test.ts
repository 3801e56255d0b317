// The explorer the hub serves itself, in a real browser with no route to the internet: GraphiQL at /graphiql runs a
// query with a pasted token, and everything it loads comes from the hub. The landing page links to it when Apollo
// Sandbox cannot be loaded.
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { launchBrowser, screenshot } from './support/browser';
import { clientToken } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let browser: Browser;
let base: string;

beforeAll(async () => {
  hub = await startTestHub('explorer');
  base = hub.gatewayUrl.replace(/\/graphql$/, '');
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stopTestHub(hub);
});

async function newPage(): Promise<{ page: Page; requested: string[] }> {
  const page = await browser.newPage({
    viewport: { width: 1280, height: 760 },
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  return { page, requested };
}

/** Replaces what a Monaco editor of GraphiQL holds by pasting, as a person pastes a token (typing auto-closes). */
async function paste(page: Page, editor: string, text: string): Promise<void> {
  await page.evaluate((value) => navigator.clipboard.writeText(value), text);
  await page.locator(`${editor} .monaco-editor`).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('ControlOrMeta+V');
}

it('runs { viewer { id } } with a pasted member token, every request going to the hub', async () => {
  const { page, requested } = await newPage();
  const token = await clientToken('M0001', 'member');
  await page.goto(`${base}/graphiql/`);
  await page.locator('.graphiql-query-editor .monaco-editor').waitFor();
  await paste(page, '.graphiql-query-editor', '{ viewer { id } }');
  await paste(
    page,
    '.graphiql-editor-tool .graphiql-editor:not(.hidden)',
    `{ "Authorization": "Bearer ${token}" }`,
  );
  await page.locator('.graphiql-execute-button').click();
  await page.locator('.graphiql-response .view-lines', { hasText: '"M0001"' }).waitFor({ timeout: 15_000 });
  await screenshot(page, 'explorer');
  // The history keeps each run's headers: in the tab only, never where the next user of the browser finds the token.
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain(token);
  expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }))).toContain('graphiql:queries');

  expect(requested.length).toBeGreaterThan(0);
  expect(requested.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
  await page.close();
});

it('the landing page offers the explorer when Apollo Sandbox cannot be loaded', async () => {
  const { page } = await newPage();
  // This machine has no route to Apollo's CDN; make the failure immediate rather than a DNS timeout.
  await page.route(/^https:\/\//, (route) => route.abort('internetdisconnected'));
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-sandbox="offline"]');
  await page.locator('#sandbox-status a').click();
  await page.locator('.graphiql-container').waitFor();
  expect(new URL(page.url()).pathname).toBe('/graphiql/');
  await page.close();
});
