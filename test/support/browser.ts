// Headless Chromium (Debian's package) driven by playwright-core, for tests of what the hub serves to browsers. The
// flags keep Chromium from reaching for Google's services, which this machine (and many bank intranets) cannot reach.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where browser tests leave their screenshots; the README shows them. */
export const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Writes what the page shows to docs/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Opens the operations console at `base` (the gateway's origin) as `operator`, with the development issuer's token. */
export async function logInToConsole(page: Page, base: string, operator: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Operator id').fill(operator);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByText(operator, { exact: true }).waitFor();
}
