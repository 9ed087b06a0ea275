/**
 * The analytics page in Chromium: the counts of what the user just did on the tasks page
 * (gateway → events → analytics worker → InfluxDB → RPC → page), the range switch, and the
 * "temporarily unavailable" state when no analytics service answers (503).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { startService, type RunningProcess } from '../support/processes';
import {
  eventually,
  expectEventually,
  launchChromium,
  screenshot,
  signedInContext,
  unlabelledControls,
  watchForPageProblems,
} from './support/browser';
import {
  addTodos,
  item,
  openTasks,
  serverView,
  settled,
  shownTitles,
  tasksReady,
} from './support/todo-page';

const TOTALS = ['created', 'completed', 'uncompleted', 'updated', 'deleted', 'rate'] as const;

async function shownTotals(page: Page): Promise<Record<string, string>> {
  const entries = await Promise.all(
    TOTALS.map(
      async (key) =>
        [key, (await page.locator(`[data-total="${key}"]`).textContent())?.trim() ?? ''] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** Waits until the page has finished asking for the summary (successfully or not). */
async function loaded(page: Page): Promise<void> {
  await page.locator('main.analytics[data-state]:not([data-state="loading"])').waitFor();
}

describe('analytics page in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  describe('with the analytics service running', () => {
    let stack: IsolatedStack;
    let gateway: RunningProcess;
    let analytics: RunningProcess;
    let context: BrowserContext;

    beforeAll(async () => {
      stack = await createIsolatedStack('webstats');
      [gateway, analytics] = await Promise.all([
        startService('gateway', stack),
        startService('analytics', stack),
      ]);
    });

    afterAll(async () => {
      await context?.close();
      await Promise.all([gateway?.stop(), analytics?.stop()]);
      await stack?.cleanup();
    });

    it('shows the counts of what was just done, by range, with a chart', async () => {
      ({ context } = await signedInContext(browser, gateway.url, 'stats'));
      const page = await context.newPage();
      const problems = watchForPageProblems(page);

      // Three created, two completed (one of them reopened and completed again), one
      // renamed, one deleted.
      await openTasks(page);
      await addTodos(page, 'write report', 'review pull request', 'book flights');
      await item(page, 'write report').locator('.toggle').check();
      await item(page, 'review pull request').locator('.toggle').check();
      await item(page, 'review pull request').locator('.toggle').uncheck();
      await item(page, 'review pull request').locator('.toggle').check();
      await item(page, 'book flights').locator('label').dblclick();
      await page.locator('.todo-list li.editing .edit').fill('book train');
      await page.locator('.todo-list li.editing .edit').press('Enter');
      await item(page, 'book train').hover();
      await item(page, 'book train').locator('.destroy').click();
      await expectEventually(() => shownTitles(page), ['write report', 'review pull request']);
      await settled(page);
      expect(await serverView(context)).toEqual([
        ['write report', true],
        ['review pull request', true],
      ]);

      const expected = {
        created: '3',
        completed: '3',
        uncompleted: '1',
        updated: '1',
        deleted: '1',
        rate: '67%', // (3 completions - 1 reopening) / 3 created
      };
      await page.getByRole('link', { name: 'Analytics' }).click();
      await page.waitForURL(`${gateway.url}/analytics`);
      expect(await page.title()).toBe('Analytics · Taskit');
      // The events reach InfluxDB asynchronously: reload until the page shows all of them.
      await eventually(
        'the analytics page to show every event',
        async () => {
          await loaded(page);
          if (JSON.stringify(await shownTotals(page)) === JSON.stringify(expected)) return true;
          await page.reload();
          return false;
        },
        30_000,
      );
      expect(await shownTotals(page)).toEqual(expected);
      expect(await page.locator('.unavailable').isVisible()).toBe(false);
      expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
      expect(await page.locator('.chart-empty').isVisible()).toBe(false);
      expect(await unlabelledControls(page)).toEqual([]);
      await screenshot(page, 'analytics');

      // The numbers behind the chart, as a table: they add up to the totals.
      await page.locator('.series-table summary').click();
      const columnSum = async (column: number) =>
        (
          await page.locator(`.series-table tbody tr td:nth-of-type(${column})`).allTextContents()
        ).reduce((sum, text) => sum + Number(text), 0);
      expect(await columnSum(1)).toBe(3);
      expect(await columnSum(2)).toBe(3);

      // The range switch: 7 days hold the same events; keyboard arrows move between ranges.
      await page.locator('label[for="range-7d"]').click();
      await loaded(page);
      expect(new URL(page.url()).search).toBe('?range=7d');
      expect(await shownTotals(page)).toEqual(expected);
      await page.locator('#range-7d').focus();
      await page.keyboard.press('ArrowRight');
      await expectEventually(() => page.getByLabel('30 days').isChecked(), true);
      await loaded(page);
      expect(new URL(page.url()).search).toBe('?range=30d');
      expect(await shownTotals(page)).toEqual(expected);
      expect(await page.locator('.analytics-status').textContent()).toBe(
        'Showing the last 30 days.',
      );
      expect(problems).toEqual([]);
    });
  });

  describe('without an analytics service', () => {
    let stack: IsolatedStack;
    let gateway: RunningProcess;
    let context: BrowserContext;

    beforeAll(async () => {
      // Its own RabbitMQ virtual host, where no analytics service listens for the RPC.
      stack = await createIsolatedStack('webnostats');
      gateway = await startService('gateway', stack);
    });

    afterAll(async () => {
      await context?.close();
      await gateway?.stop();
      await stack?.cleanup();
    });

    it('shows "temporarily unavailable" and leaves the rest of the app working', async () => {
      let email: string;
      ({ context, email } = await signedInContext(browser, gateway.url, 'nostats'));
      const page = await context.newPage();
      const problems = watchForPageProblems(page);
      await page.goto('/analytics');
      await loaded(page);

      const unavailable = page.locator('.unavailable');
      expect(await unavailable.isVisible()).toBe(true);
      expect(await unavailable.getAttribute('role')).toBe('alert');
      expect(await unavailable.locator('h2').textContent()).toBe(
        'Analytics temporarily unavailable',
      );
      expect(await page.locator('.analytics-body').isVisible()).toBe(false);
      expect(await page.locator('.user-email').textContent()).toBe(email);
      await screenshot(page, 'analytics-unavailable');

      // Trying again asks again (and is still refused).
      const retried = page.waitForResponse((response) =>
        response.url().includes('/api/analytics/summary'),
      );
      await unavailable.getByRole('button', { name: 'Try again' }).click();
      expect((await retried).status()).toBe(503);
      await loaded(page);
      expect(await unavailable.isVisible()).toBe(true);

      // The tasks page works all the same.
      await page.getByRole('link', { name: 'Tasks' }).click();
      await tasksReady(page);
      await addTodos(page, 'still works');
      await settled(page);
      expect(await serverView(context)).toEqual([['still works', false]]);
      expect(problems).toEqual([]);
    });
  });
});
