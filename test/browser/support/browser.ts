import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../support/test-environment';

/**
 * Debian's Chromium driven by playwright-core (its own browser download cannot work here).
 * `npm test` installs Chromium first (tools/stack/browser.mts) and passes its path.
 * Playwright gives every launch a fresh, empty profile (its own --user-data-dir).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.TASKIT_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      // The machine's network is closed: no background connections, no update checks.
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const PASSWORD = 'correct horse battery';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots');

export function uniqueEmail(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}@example.com`;
}

/** Writes test-results/screenshots/<name>.png (gitignored), the whole page. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** A browser context on the gateway with a freshly registered user, signed in. */
export async function signedInContext(
  browser: Browser,
  baseURL: string,
  label: string,
  viewport = { width: 1024, height: 800 },
): Promise<{ context: BrowserContext; email: string }> {
  const context = await browser.newContext({ baseURL, viewport });
  const email = uniqueEmail(label);
  const response = await context.request.post('/api/auth/register', {
    data: { email, password: PASSWORD },
  });
  if (response.status() !== 201) {
    throw new Error(`register ${email}: ${response.status()} ${await response.text()}`);
  }
  return { context, email };
}

/**
 * What went wrong inside a page that no assertion looks at: uncaught exceptions and CSP
 * violations (an inline script or style that the gateway's policy refused).
 */
export function watchForPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (/Content.Security.Policy|Refused to/i.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return problems;
}

/** Inputs and buttons without an accessible name (label, aria-label or text). */
export function unlabelledControls(page: Page): Promise<string[]> {
  // Source text: this runs in the page, and the tests are compiled without the DOM library.
  return page.evaluate<string[]>(`
    [...document.querySelectorAll('input, button, select, textarea')]
      .filter((control) => control.type !== 'hidden')
      .filter((control) => !(
        (control.labels && control.labels.length > 0) ||
        (control.getAttribute('aria-label') || '').trim() !== '' ||
        control.hasAttribute('aria-labelledby') ||
        (control.tagName === 'BUTTON' && control.textContent.trim() !== '')
      ))
      .map((control) => control.outerHTML.slice(0, 120))
  `);
}

/** Polls `condition` (e.g. a page's text) until it holds; no fixed sleeps in the tests. */
export async function eventually(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await condition()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms: ${what}${lastError instanceof Error ? ` (${lastError.message})` : ''}`,
  );
}

/**
 * Polls `actual` until it equals `expected`, then asserts with Jest (so a failure shows the
 * last value seen). The page updates optimistically, so this normally passes at once.
 */
export async function expectEventually<T>(
  actual: () => Promise<T>,
  expected: T,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await actual();
  while (!equal(last, expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await actual();
  }
  expect(last).toEqual(expected);
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
