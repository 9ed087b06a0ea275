/**
 * The tasks page with a list longer than one page of the API (docs/api.md, Pagination): the
 * page reads every page, shows every todo in order, and its TodoMVC counts agree with the
 * server's `counts`.
 */
import { mongo } from 'mongoose';
import type { Browser } from 'playwright-core';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { startService, type RunningProcess } from '../support/processes';
import {
  expectEventually,
  launchChromium,
  signedInContext,
  watchForPageProblems,
} from './support/browser';
import { openTasks, shownTitles } from './support/todo-page';

const TASKS = 503;

describe('tasks page with more todos than one API page, in Chromium', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let browser: Browser;

  beforeAll(async () => {
    stack = await createIsolatedStack('webpages');
    [gateway, browser] = await Promise.all([startService('gateway', stack), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  it('shows all of them, oldest first, with the counts of the whole list', async () => {
    const { context } = await signedInContext(browser, gateway.url, 'pages');
    const me = (await (await context.request.get('/api/auth/me')).json()) as {
      user: { id: string };
    };
    // Written straight into MongoDB (through the API this many creates take minutes here).
    const db = new mongo.MongoClient(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    await db.connect();
    const base = Date.now() - 86_400_000;
    await db
      .db()
      .collection('tasks')
      .insertMany(
        Array.from({ length: TASKS }, (_, i) => ({
          _id: new mongo.ObjectId(),
          userId: new mongo.ObjectId(me.user.id),
          title: `todo ${i + 1}`,
          done: i % 4 === 0,
          createdAt: new Date(base + i * 1000),
          updatedAt: new Date(base + i * 1000),
          deletedAt: null,
          outbox: [],
        })),
      );
    await db.close();
    const first = (await (await context.request.get('/api/tasks')).json()) as {
      tasks: unknown[];
      nextCursor: string | null;
      counts: { active: number; completed: number };
    };
    expect(first.tasks.length).toBeLessThan(TASKS);
    expect(first.nextCursor).not.toBeNull();
    const completed = Math.ceil(TASKS / 4);
    expect(first.counts).toEqual({ active: TASKS - completed, completed });

    const page = await context.newPage();
    const problems = watchForPageProblems(page);
    const listRequests: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/tasks') listRequests.push(request.url());
    });
    await openTasks(page);

    expect(await shownTitles(page)).toEqual(
      Array.from({ length: TASKS }, (_, i) => `todo ${i + 1}`),
    );
    expect(await page.locator('.todo-list li.completed').count()).toBe(completed);
    expect(await page.locator('.todo-count').innerHTML()).toBe(
      `<strong>${TASKS - completed}</strong> items left`,
    );
    expect(listRequests.filter((url) => url.includes('cursor='))).toHaveLength(1);

    await page.goto('/#/completed');
    await expectEventually(() => page.locator('.todo-list li').count(), completed);
    expect(problems).toEqual([]);
    await context.close();
  });
});
