/**
 * The tasks page against the real gateway, in Chromium: the TodoMVC template's markup and
 * every behaviour of the TodoMVC application specification (tastejs/todomvc app-spec.md),
 * persisted on the server (a reload after each change that the spec persists).
 */
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { startService, type RunningProcess } from '../support/processes';
import {
  expectEventually,
  launchChromium,
  screenshot,
  signedInContext,
  unlabelledControls,
  watchForPageProblems,
} from './support/browser';
import { pageShape, templateShape } from './support/template-structure';
import {
  addTodos,
  focusedClass,
  hasClass,
  isCompleted,
  item,
  openTasks,
  serverView,
  settled,
  shownTitles,
  tasksReady,
} from './support/todo-page';

describe('tasks page (TodoMVC) in Chromium', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let browser: Browser;
  let context: BrowserContext;
  let email: string;
  let page: Page;
  let problems: string[];
  /** Refusals the test provoked itself; any other error notice fails the test. */
  let refusalsExpected: boolean;

  beforeAll(async () => {
    stack = await createIsolatedStack('webtodo');
    [gateway, browser] = await Promise.all([startService('gateway', stack), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  beforeEach(async () => {
    ({ context, email } = await signedInContext(browser, gateway.url, 'todo'));
    page = await context.newPage();
    problems = watchForPageProblems(page);
    refusalsExpected = false;
    await openTasks(page);
  });

  afterEach(async () => {
    expect(problems).toEqual([]);
    if (!refusalsExpected) {
      expect(await page.locator('.notice-error').allTextContents()).toEqual([]);
    }
    await context?.close();
  });

  const count = () => page.locator('.todo-count').innerHTML();
  const toggleAllChecked = () => page.locator('.toggle-all').isChecked();
  const clickToggleAll = () => page.locator('label[for="toggle-all"]').click();
  const visible = (selector: string) => () => page.locator(selector).isVisible();

  /** The list as the page shows it: titles and whether each <li> is `completed`. */
  const shownView = () =>
    page.evaluate<[string, boolean][]>(`
      [...document.querySelectorAll('.todo-list li')].map((li) => [
        li.querySelector('.view label').textContent,
        li.classList.contains('completed'),
      ])
    `);

  /** Persistence: once the server has every change, a reload shows `expected` again. */
  const expectAfterReload = async (expected: [string, boolean][]) => {
    await settled(page);
    expect(await serverView(context)).toEqual(expected);
    await page.reload();
    await tasksReady(page);
    expect(await shownView()).toEqual(expected);
  };

  it('focuses .new-todo on load, titles the page and labels every control', async () => {
    expect(await focusedClass(page)).toBe('new-todo');
    expect(await page.title()).toBe('Tasks · Taskit');
    await addTodos(page, 'one');
    expect(await unlabelledControls(page)).toEqual([]);
  });

  it('serves the TodoMVC template’s .todoapp markup, with no ids of its own on it', async () => {
    const served = await (await context.request.get('/')).text();
    expect(await pageShape(page, served, { asServed: true })).toEqual(
      await templateShape(page, { asServed: true }),
    );
    // The template's only id; legacy id-based TodoMVC markup (#new-todo, #todo-list…) has more.
    const ids = await page.evaluate<{ inApp: string[]; all: string[]; skipTarget: string }>(`({
      inApp: [...document.querySelectorAll('.todoapp [id], .todoapp[id]')].map((e) => e.id),
      all: [...document.querySelectorAll('[id]')].map((e) => e.id),
      skipTarget: document.querySelector('.skip-link').getAttribute('href'),
    })`);
    expect(ids.inApp).toEqual(['toggle-all']);
    const todomvcClasses = ['todoapp', 'header', 'new-todo', 'main', 'todo-list', 'footer'];
    for (const name of [...todomvcClasses, 'todo-count', 'filters', 'clear-completed', 'info']) {
      expect(ids.all).not.toContain(name);
    }
    // The skip link's target is Taskit's <main>, outside the template's elements.
    expect(ids.skipTarget).toBe('#content');
    expect(await page.locator('main#content > .todoapp').count()).toBe(1);
  });

  it('with todos, the .todoapp has the template’s structure: elements, classes, attributes', async () => {
    // The template's sample state: two todos, the first completed, route #/.
    await addTodos(page, 'Taste JavaScript', 'Buy a unicorn');
    await item(page, 'Taste JavaScript').locator('.toggle').check();
    await expectEventually(() => isCompleted(page, 'Taste JavaScript'), true);
    expect(await pageShape(page, null)).toEqual(await templateShape(page));
    await settled(page);
  });

  it('lays the template out with todomvc-app-css: every control is where a click reaches it', async () => {
    await addTodos(page, 'one', 'two');
    await item(page, 'one').locator('.toggle').check();
    await expectEventually(visible('.clear-completed'), true);
    // Rules only todomvc-app-css has (the hand-written sheet had neither).
    const css = await page.evaluate<Record<string, unknown>>(`(() => {
      const main = document.querySelector('.main').getBoundingClientRect();
      const toggleAll = document.querySelector('.toggle-all').getBoundingClientRect();
      return {
        h1Top: getComputedStyle(document.querySelector('.todoapp h1')).top,
        newTodoHeight: getComputedStyle(document.querySelector('.new-todo')).height,
        toggleAllAboveLeftOfMain: toggleAll.right <= main.left && toggleAll.bottom <= main.top,
      };
    })()`);
    expect(css).toEqual({ h1Top: '-140px', newTodoHeight: '65px', toggleAllAboveLeftOfMain: true });
    // What the browser hits at the centre of each control is the control itself (or inside it).
    const covered = await page.evaluate<string[]>(`
      [...document.querySelectorAll(
        '.new-todo, input.toggle-all, label[for="toggle-all"], .todo-list li .toggle,' +
        '.todo-list li .view label, .filters a, .clear-completed'
      )].filter((control) => {
        const box = control.getBoundingClientRect();
        const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        return !(hit && control.contains(hit));
      }).map((control) => control.outerHTML.slice(0, 80))
    `);
    expect(covered).toEqual([]);
    await settled(page);
  });

  it('a real click on input.toggle-all completes every todo, and the next one reopens them', async () => {
    await addTodos(page, 'x', 'y', 'z');
    await item(page, 'y').locator('.toggle').check();
    const input = page.locator('input.toggle-all');
    // Not its label: with todos in the list nothing may cover the input itself.
    await input.click({ timeout: 5_000 });
    await expectEventually(() => page.locator('.todo-list li.completed').count(), 3);
    expect(await input.isChecked()).toBe(true);
    await expectAfterReload([
      ['x', true],
      ['y', true],
      ['z', true],
    ]);
    expect(await input.isChecked()).toBe(true);

    await input.click({ timeout: 5_000 });
    await expectEventually(() => page.locator('.todo-list li.completed').count(), 0);
    expect(await input.isChecked()).toBe(false);
    await expectAfterReload([
      ['x', false],
      ['y', false],
      ['z', false],
    ]);
    expect(await input.isChecked()).toBe(false);
  });

  it('the skip link comes before the header and focuses the new todo, keeping the route', async () => {
    await addTodos(page, 'routed');
    await page.locator('.filters a[href="#/active"]').click();
    await page.locator('.brand').focus();
    await page.keyboard.press('Shift+Tab');
    expect(await focusedClass(page)).toBe('skip-link');
    expect(await page.locator('.skip-link').isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    expect(await focusedClass(page)).toBe('new-todo');
    expect(page.url()).toMatch(/#\/active$/);
    expect(await page.locator('.filters a.selected').getAttribute('href')).toBe('#/active');
    await settled(page);
  });

  it('shows the sign-up notice, but none for the task changes made on the page', async () => {
    const notices = () => page.locator('.notice').allTextContents();
    // A flash that crossed a page change: the account was made before this page opened.
    expect((await notices()).join()).toContain('Welcome to Taskit');
    await addTodos(page, 'one', 'two', 'three');
    await item(page, 'one').locator('.toggle').check();
    await item(page, 'two').locator('label').dblclick();
    await page.locator('.todo-list li.editing .edit').fill('two, renamed');
    await page.locator('.todo-list li.editing .edit').press('Enter');
    await item(page, 'three').hover();
    await item(page, 'three').locator('.destroy').click();
    await clickToggleAll();
    await page.locator('.clear-completed').click();
    await expectAfterReload([]);
    expect(await page.locator('.user-email').textContent()).toBe(email);
    expect(await notices()).toEqual([]);

    // Nor on the next page.
    await addTodos(page, 'four');
    await settled(page);
    const analytics = await context.newPage();
    await analytics.goto('/analytics');
    await expectEventually(() => analytics.locator('.user-email').textContent(), email);
    expect(await analytics.locator('.notice').allTextContents()).toEqual([]);
    await analytics.close();
  });

  it('hides .main and .footer while there are no todos', async () => {
    expect(await page.locator('.main').isVisible()).toBe(false);
    expect(await page.locator('.footer').isVisible()).toBe(false);
    await addTodos(page, 'first');
    await expectEventually(visible('.main'), true);
    await expectEventually(visible('.footer'), true);
    await item(page, 'first').hover();
    await item(page, 'first').locator('.destroy').click();
    await expectEventually(visible('.main'), false);
    await expectEventually(visible('.footer'), false);
    await expectAfterReload([]);
    expect(await page.locator('.main').isVisible()).toBe(false);
    expect(await page.locator('.footer').isVisible()).toBe(false);
  });

  it('adds the trimmed title on Enter, appends it and clears the input; empty adds nothing', async () => {
    const input = page.locator('.new-todo');
    await addTodos(page, '  buy milk  ');
    await expectEventually(() => shownTitles(page), ['buy milk']);
    expect(await input.inputValue()).toBe('');

    await input.press('Enter');
    await input.fill('    ');
    await input.press('Enter');
    await addTodos(page, 'walk the dog');
    await expectEventually(() => shownTitles(page), ['buy milk', 'walk the dog']);
    await expectAfterReload([
      ['buy milk', false],
      ['walk the dog', false],
    ]);

    // Longer than the server takes: cut at 500 characters, as the old maxlength did.
    await input.fill('x'.repeat(600));
    expect((await input.inputValue()).length).toBe(500);
  });

  it('shows a change at once, before the server has answered', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/tasks', async (route: Route) => {
      if (route.request().method() === 'POST') await held;
      await route.continue();
    });
    await addTodos(page, 'instant');
    await expectEventually(() => shownTitles(page), ['instant']); // the POST is still held
    release();
    await settled(page);
    expect(await serverView(context)).toEqual([['instant', false]]);
  });

  it('toggles an item: checkbox, the completed class on its <li>, and the server', async () => {
    await addTodos(page, 'a', 'b');
    await item(page, 'a').locator('.toggle').check();
    await expectEventually(() => isCompleted(page, 'a'), true);
    expect(await isCompleted(page, 'b')).toBe(false);
    await settled(page);
    expect(await serverView(context)).toEqual([
      ['a', true],
      ['b', false],
    ]);

    await expectAfterReload([
      ['a', true],
      ['b', false],
    ]);

    await item(page, 'a').locator('.toggle').uncheck();
    await expectEventually(() => isCompleted(page, 'a'), false);
    await expectAfterReload([
      ['a', false],
      ['b', false],
    ]);
  });

  it('toggle-all sets every item to its state, and follows the items', async () => {
    await addTodos(page, 'x', 'y', 'z');
    expect(await toggleAllChecked()).toBe(false);

    await clickToggleAll();
    await expectEventually(() => page.locator('.todo-list li.completed').count(), 3);
    expect(await toggleAllChecked()).toBe(true);
    await settled(page);
    expect((await serverView(context)).every(([, done]) => done)).toBe(true);

    await clickToggleAll();
    await expectEventually(() => page.locator('.todo-list li.completed').count(), 0);
    expect(await toggleAllChecked()).toBe(false);
    await settled(page);
    expect((await serverView(context)).every(([, done]) => !done)).toBe(true);

    // Checking every item by hand checks toggle-all; unchecking one clears it.
    for (const title of ['x', 'y']) await item(page, title).locator('.toggle').check();
    expect(await toggleAllChecked()).toBe(false);
    await item(page, 'z').locator('.toggle').check();
    await expectEventually(toggleAllChecked, true);
    await item(page, 'y').locator('.toggle').uncheck();
    await expectEventually(toggleAllChecked, false);
  });

  it('double-click edits (.editing, .edit focused); Enter saves the trimmed title', async () => {
    await addTodos(page, 'draft');
    await item(page, 'draft').locator('label').dblclick();
    const li = page.locator('.todo-list li').first();
    await expectEventually(() => hasClass(li, 'editing'), true);
    const edit = li.locator('.edit');
    expect(await focusedClass(page)).toBe('edit');
    expect(await edit.inputValue()).toBe('draft');
    expect(await li.locator('.toggle').isVisible()).toBe(false); // other controls hidden

    await edit.fill('  final title  ');
    await edit.press('Enter');
    await expectEventually(() => shownTitles(page), ['final title']);
    expect(await hasClass(li, 'editing')).toBe(false);
    await expectAfterReload([['final title', false]]);
  });

  it('does not persist the editing mode', async () => {
    await addTodos(page, 'being edited');
    await item(page, 'being edited').locator('label').dblclick();
    await expectEventually(() => page.locator('.todo-list li.editing').count(), 1);
    await expectAfterReload([['being edited', false]]);
    expect(await page.locator('.todo-list li.editing').count()).toBe(0);
    expect(await page.locator('.todo-list li .edit').isVisible()).toBe(false);
  });

  it('saves an edit on blur', async () => {
    await addTodos(page, 'before blur');
    await item(page, 'before blur').locator('label').dblclick();
    const edit = page.locator('.todo-list li .edit');
    await edit.fill(' after blur ');
    await page.locator('.todoapp h1').click();
    await expectEventually(() => shownTitles(page), ['after blur']);
    expect(await page.locator('.todo-list li.editing').count()).toBe(0);
    await expectAfterReload([['after blur', false]]);
  });

  it('deletes the todo when the edit is emptied', async () => {
    await addTodos(page, 'keep', 'doomed');
    await item(page, 'doomed').locator('label').dblclick();
    const edit = page.locator('.todo-list li.editing .edit');
    await edit.fill('   ');
    await edit.press('Enter');
    await expectEventually(() => shownTitles(page), ['keep']);
    await expectAfterReload([['keep', false]]);
  });

  it('Escape leaves editing and discards the changes', async () => {
    await addTodos(page, 'unchanged');
    await item(page, 'unchanged').locator('label').dblclick();
    const edit = page.locator('.todo-list li.editing .edit');
    await edit.fill('something else');
    await edit.press('Escape');
    await expectEventually(() => page.locator('.todo-list li.editing').count(), 0);
    expect(await shownTitles(page)).toEqual(['unchanged']);
    await expectAfterReload([['unchanged', false]]);
  });

  it('shows .destroy on hover and removes the todo with it', async () => {
    await addTodos(page, 'one', 'two');
    await page.mouse.move(0, 0);
    const destroy = item(page, 'one').locator('.destroy');
    expect(await destroy.isVisible()).toBe(false);
    await item(page, 'one').hover();
    expect(await destroy.isVisible()).toBe(true);
    await destroy.click();
    await expectEventually(() => shownTitles(page), ['two']);
    await expectAfterReload([['two', false]]);
  });

  it('counts the active todos in <strong>, with "item" or "items"', async () => {
    await addTodos(page, 'p');
    await expectEventually(count, '<strong>1</strong> item left');
    await addTodos(page, 'q');
    await expectEventually(count, '<strong>2</strong> items left');
    await clickToggleAll();
    await expectEventually(count, '<strong>0</strong> items left');
  });

  it('shows "Clear completed" only with completed todos, and it removes them', async () => {
    await addTodos(page, 'done 1', 'open', 'done 2');
    const clear = page.locator('.clear-completed');
    expect(await clear.isVisible()).toBe(false);
    await item(page, 'done 1').locator('.toggle').check();
    await item(page, 'done 2').locator('.toggle').check();
    await expectEventually(() => clear.isVisible(), true);
    expect(await clear.textContent()).toBe('Clear completed');

    await clear.click();
    await expectEventually(() => shownTitles(page), ['open']);
    expect(await clear.isVisible()).toBe(false);
    expect(await toggleAllChecked()).toBe(false);
    await expectAfterReload([['open', false]]);

    // After clearing an all-completed list, toggle-all is unchecked again.
    await clickToggleAll();
    await page.locator('.clear-completed').click();
    await expectEventually(visible('.main'), false);
    await addTodos(page, 'fresh');
    expect(await toggleAllChecked()).toBe(false);
  });

  it('filters with #/, #/active and #/completed, marking the link selected', async () => {
    await addTodos(page, 'red', 'green', 'blue');
    await item(page, 'green').locator('.toggle').check();
    const selected = () => page.locator('.filters a.selected').getAttribute('href');
    expect(await selected()).toBe('#/');

    await page.locator('.filters a[href="#/active"]').click();
    await expectEventually(() => shownTitles(page), ['red', 'blue']);
    expect(await selected()).toBe('#/active');
    expect(page.url()).toMatch(/#\/active$/);

    // Completing an item in the Active view hides it at once.
    await item(page, 'red').locator('.toggle').click();
    await expectEventually(() => shownTitles(page), ['blue']);

    await page.locator('.filters a[href="#/completed"]').click();
    await expectEventually(() => shownTitles(page), ['red', 'green']);
    expect(await selected()).toBe('#/completed');

    await page.goBack(); // the browser's back button follows the routes
    await expectEventually(selected, '#/active');
    await expectEventually(() => shownTitles(page), ['blue']);

    // The route survives a reload.
    await settled(page);
    await page.reload();
    await tasksReady(page);
    await expectEventually(() => shownTitles(page), ['blue']);
    expect(await selected()).toBe('#/active');

    await page.locator('.filters a[href="#/"]').click();
    await expectEventually(() => shownTitles(page), ['red', 'green', 'blue']);
    expect(await selected()).toBe('#/');
  });

  it('keeps the state across a reload, because it is the server’s', async () => {
    await addTodos(page, 'first', 'second', 'third');
    await item(page, 'second').locator('.toggle').check();
    await item(page, 'third').locator('label').dblclick();
    await page.locator('.todo-list li.editing .edit').fill('third, renamed');
    await page.locator('.todo-list li.editing .edit').press('Enter');
    await settled(page);

    await page.reload();
    await tasksReady(page);
    await expectEventually(() => shownTitles(page), ['first', 'second', 'third, renamed']);
    expect(await isCompleted(page, 'second')).toBe(true);
    expect(await isCompleted(page, 'first')).toBe(false);
    await expectEventually(count, '<strong>2</strong> items left');
    await screenshot(page, 'tasks');
  });

  it('undoes a change the server refuses and says so', async () => {
    await addTodos(page, 'stays open');
    await settled(page);
    await page.route('**/api/tasks/*', async (route: Route) => {
      if (route.request().method() !== 'PATCH') return route.continue();
      return route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ statusCode: 400, message: 'refused by test', error: 'Bad Request' }),
      });
    });
    refusalsExpected = true;
    await item(page, 'stays open').locator('.toggle').click(); // (check() would see the undo)
    await expectEventually(() => isCompleted(page, 'stays open'), false);
    const notice = page.locator('.notice-error');
    await expectEventually(() => notice.isVisible(), true);
    expect(await notice.textContent()).toContain('refused by test');
    expect(await notice.getAttribute('role')).toBe('alert');
    expect(await serverView(context)).toEqual([['stays open', false]]);

    // A refused creation disappears again.
    await page.route('**/api/tasks', async (route: Route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 503, contentType: 'application/json', body: '{}' })
        : route.continue(),
    );
    await addTodos(page, 'never saved');
    await expectEventually(() => shownTitles(page), ['stays open']);
    expect(await page.locator('.notice-error').count()).toBe(2);
  });

  it('works with the keyboard alone', async () => {
    await page.keyboard.type('typed');
    await page.keyboard.press('Enter');
    await page.keyboard.type('second');
    await page.keyboard.press('Enter');
    await settled(page);

    // Tab from the input: toggle-all, then the first item's checkbox, then its label.
    await page.keyboard.press('Tab');
    expect(await focusedClass(page)).toBe('toggle-all');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await expectEventually(() => isCompleted(page, 'typed'), true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter'); // edit
    expect(await focusedClass(page)).toBe('edit');
    await page.keyboard.press('End');
    await page.keyboard.type(' by keyboard');
    await page.keyboard.press('Enter');
    await expectEventually(() => shownTitles(page), ['typed by keyboard', 'second']);

    // The focused item shows its delete button, which is next in the tab order.
    await page.keyboard.press('Tab');
    expect(await focusedClass(page)).toBe('destroy');
    expect(await item(page, 'typed by keyboard').locator('.destroy').isVisible()).toBe(true);
    await page.keyboard.press('Enter');
    await expectEventually(() => shownTitles(page), ['second']);
    await settled(page);
    expect(await serverView(context)).toEqual([['second', false]]);
  });

  it('fits a phone screen without sideways scrolling', async () => {
    await addTodos(page, 'a todo with a rather long title that has to wrap on a phone', 'short');
    await page.setViewportSize({ width: 360, height: 740 });
    expect(
      await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'),
    ).toBe(true);
    expect(await page.locator('.sign-out').isVisible()).toBe(true);
    await screenshot(page, 'tasks-phone');
  });
});
