import type { BrowserContext, Locator, Page } from 'playwright-core';

export interface ServerTask {
  id: string;
  title: string;
  done: boolean;
}

// The test files are compiled without the DOM library (the root tsconfig is Node's): code run
// inside the page reaches the page's globals through globalThis. (A string expression would do
// too for page.evaluate, but not for waitForFunction, which would eval() it under the CSP.)

interface TaskitHook {
  taskit: { settled(): Promise<void> };
}

/** Waits until the tasks page has loaded the user's todos from the server. */
export async function tasksReady(page: Page): Promise<void> {
  await page.waitForFunction(() => 'taskit' in globalThis);
}

/** Opens the tasks page and waits until it has loaded the user's todos from the server. */
export async function openTasks(page: Page, path = '/'): Promise<void> {
  await page.goto(path);
  await tasksReady(page);
}

/** Waits until the server has answered every change made on the page so far. */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(() => (globalThis as unknown as TaskitHook).taskit.settled());
}

export function focusedClass(page: Page): Promise<string> {
  return page.evaluate<string>('document.activeElement ? document.activeElement.className : ""');
}

export function focusedId(page: Page): Promise<string> {
  return page.evaluate<string>('document.activeElement ? document.activeElement.id : ""');
}

export async function addTodos(page: Page, ...titles: string[]): Promise<void> {
  const input = page.locator('.new-todo');
  for (const title of titles) {
    await input.fill(title);
    await input.press('Enter');
  }
}

/** The titles the list shows, in order. */
export function shownTitles(page: Page): Promise<string[]> {
  return page.locator('.todo-list li .view label').allTextContents();
}

export function item(page: Page, title: string) {
  return page.locator('.todo-list li').filter({ has: page.getByText(title, { exact: true }) });
}

/** The user's tasks as the server has them, every page (the same session as the page). */
export async function serverTasks(context: BrowserContext): Promise<ServerTask[]> {
  const tasks: ServerTask[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await context.request.get(`/api/tasks?status=all${query}`);
    if (!response.ok()) throw new Error(`GET /api/tasks: ${response.status()}`);
    const body = (await response.json()) as { tasks: ServerTask[]; nextCursor: string | null };
    tasks.push(...body.tasks.map(({ id, title, done }) => ({ id, title, done })));
    cursor = body.nextCursor;
  } while (cursor !== null);
  return tasks;
}

export async function serverView(context: BrowserContext): Promise<[string, boolean][]> {
  return (await serverTasks(context)).map((task) => [task.title, task.done]);
}

/** True when the list item with this title has the `completed` class. */
export async function isCompleted(page: Page, title: string): Promise<boolean> {
  return hasClass(item(page, title), 'completed');
}

export async function hasClass(locator: Locator, name: string): Promise<boolean> {
  return ((await locator.getAttribute('class')) ?? '').split(/\s+/).includes(name);
}
