/**
 * Signing up, in and out in Chromium against the real gateway, the redirects of the page
 * routes, and how the gateway serves the pages (cache headers, CSP, favicon, JSON 404s).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { startService, type RunningProcess } from '../support/processes';
import {
  expectEventually,
  launchChromium,
  PASSWORD,
  screenshot,
  signedInContext,
  uniqueEmail,
  unlabelledControls,
  watchForPageProblems,
} from './support/browser';
import { focusedId, tasksReady } from './support/todo-page';

describe('sign-in pages in Chromium', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    stack = await createIsolatedStack('webauth');
    [gateway, browser] = await Promise.all([startService('gateway', stack), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  beforeEach(async () => {
    context = await browser.newContext({
      baseURL: gateway.url,
      viewport: { width: 1024, height: 720 },
    });
    page = await context.newPage();
    problems = watchForPageProblems(page);
  });

  afterEach(async () => {
    expect(problems).toEqual([]);
    await context?.close();
  });

  const path = () => new URL(page.url()).pathname + new URL(page.url()).search;
  const notices = () => page.locator('.notice .notice-text').allTextContents();

  it('sends a visitor without a session from / and /analytics to /login', async () => {
    await page.goto('/');
    expect(path()).toBe('/login');
    expect(await page.title()).toBe('Sign in · Taskit');
    await page.goto('/analytics');
    expect(path()).toBe('/login?next=%2Fanalytics');

    const direct = await fetch(`${gateway.url}/`, { redirect: 'manual' });
    expect(direct.status).toBe(302);
    expect(direct.headers.get('location')).toBe('/login');
  });

  it('signs up with the form, then shows the tasks page with the email and a one-time welcome', async () => {
    const email = uniqueEmail('signup');
    await page.goto('/register');
    expect(await page.title()).toBe('Create an account · Taskit');
    expect(await unlabelledControls(page)).toEqual([]);
    // Keyboard only: the email field has the focus, Tab moves on, Enter submits.
    expect(await focusedId(page)).toBe('email');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await screenshot(page, 'register');
    await Promise.all([page.waitForURL(`${gateway.url}/`), page.keyboard.press('Enter')]);

    await expectEventually(() => page.locator('.topbar .user-email').textContent(), email);
    expect(await page.locator('.topbar .sign-out').isVisible()).toBe(true);
    await expectEventually(notices, ['Welcome to Taskit']);

    // Flash notices are shown once.
    await page.reload();
    await expectEventually(() => page.locator('.topbar .user-email').textContent(), email);
    await tasksReady(page);
    expect(await notices()).toEqual([]);
  });

  it('says why a sign-up was refused', async () => {
    const { email } = await signedInContext(browser, gateway.url, 'taken');
    await page.goto('/register');
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    const error = page.locator('.form-error');
    await expectEventually(() => error.isVisible(), true);
    expect(await error.textContent()).toContain('already exists');
    expect(path()).toBe('/register');
  });

  it('signs in: a wrong password is refused, the right one opens the tasks page', async () => {
    const { email, context: other } = await signedInContext(browser, gateway.url, 'signin');
    await other.close();
    await page.goto('/login');
    expect(await unlabelledControls(page)).toEqual([]);
    await screenshot(page, 'login');

    await page.locator('#email').fill(email);
    await page.locator('#password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const error = page.locator('.form-error');
    await expectEventually(() => error.isVisible(), true);
    expect(await error.textContent()).toBe('Wrong email or password.');
    expect(await focusedId(page)).toBe('password');

    await page.locator('#password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${gateway.url}/`),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await expectEventually(notices, ['Welcome back']);

    // Signed in, the sign-in pages lead to the tasks page.
    await page.goto('/login');
    expect(path()).toBe('/');
    await page.goto('/register');
    expect(path()).toBe('/');
  });

  it('returns to the page asked for after signing in', async () => {
    const { email, context: other } = await signedInContext(browser, gateway.url, 'next');
    await other.close();
    await page.goto('/analytics');
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(`${gateway.url}/analytics`),
      page.locator('#password').press('Enter'),
    ]);
    expect(await page.title()).toBe('Analytics · Taskit');
  });

  it('signs out to /login with a one-time notice; / then redirects to /login', async () => {
    const signedIn = await signedInContext(browser, gateway.url, 'signout');
    const own = await signedIn.context.newPage();
    const ownProblems = watchForPageProblems(own);
    await own.goto('/');
    await expectEventually(() => own.locator('.user-email').textContent(), signedIn.email);

    await Promise.all([
      own.waitForURL(`${gateway.url}/login`),
      own.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await expectEventually(
      () => own.locator('.notice .notice-text').allTextContents(),
      ['Signed out'],
    );

    await own.goto('/');
    expect(new URL(own.url()).pathname).toBe('/login');
    expect(await own.locator('.notice').count()).toBe(0); // shown once
    expect((await signedIn.context.request.get('/api/tasks')).status()).toBe(401);
    expect(ownProblems).toEqual([]);
    await signedIn.context.close();
  });

  it('serves pages no-cache and hashed assets immutable, under a strict CSP', async () => {
    const login = await fetch(`${gateway.url}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/^text\/html/);
    expect(login.headers.get('cache-control')).toBe('no-cache');
    const csp = login.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await login.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline scripts
    expect(html).not.toMatch(/\sstyle="/);

    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThanOrEqual(3); // script, stylesheet, favicon
    for (const asset of assets) {
      expect(asset).toMatch(/-[\w-]{8}\.(js|css|svg)$/);
      const response = await fetch(`${gateway.url}${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await fetch(`${gateway.url}/assets/missing-12345678.js`)).status).toBe(404);
    expect((await fetch(`${gateway.url}/assets/..%2F..%2Fpackage.json`)).status).toBe(404);

    const favicon = await fetch(`${gateway.url}/favicon.ico`, { redirect: 'manual' });
    expect(favicon.status).toBe(302);
    expect(favicon.headers.get('location')).toMatch(/^\/assets\/favicon-.*\.svg$/);

    const unknownApi = await fetch(`${gateway.url}/api/no-such-thing`);
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await unknownApi.json()).toMatchObject({ statusCode: 404 });

    // And the browser runs the page under that policy without a single violation.
    await page.goto('/login');
    const cardStyle = 'getComputedStyle(document.querySelector(".auth-card")).maxWidth';
    expect(await page.evaluate<string>(cardStyle)).toBe('400px'); // the stylesheet applied
  });
});
