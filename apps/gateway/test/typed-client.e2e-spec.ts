import { TEST_PASSWORD } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';
import {
  registeredTypedClient,
  TypedApiClient,
  type components,
} from '../../../test/support/typed-api-client';

type Task = components['schemas']['TaskView'];
type ErrorView = components['schemas']['ErrorView'];

/**
 * The task routes through a client typed by the paths generated from the OpenAPI document
 * (docs/api.md, "The typed client"; openapi.e2e-spec.ts checks that the committed types are the
 * served document's): every call below compiles only if the document describes its path,
 * parameters and body, and reads only fields the document promises. The answers are then the
 * real servers', so the document cannot promise what the routes do not do.
 */
describe('gateway: the task routes through the client typed by the OpenAPI document', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('typedclient');
    gateway = await startService('gateway', stack);
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  /** Every 4xx body is the document's ErrorView, with the status it came with. */
  function expectErrorView(error: ErrorView | undefined, status: number, reason: string): void {
    expect(error).toEqual({ statusCode: status, message: expect.any(String), error: reason });
  }

  async function create(client: TypedApiClient, title: string): Promise<Task> {
    const { data, response } = await client.api.POST('/api/tasks', { body: { title } });
    expect(response.status).toBe(201);
    if (data === undefined) throw new Error('no task in a 201');
    return data;
  }

  it('signs up, out and in again: the session cookie and the CSRF token follow', async () => {
    const { client, email } = await registeredTypedClient(gateway.url, 'typed');
    const me = await client.api.GET('/api/auth/me');
    expect(me.response.status).toBe(200);
    expect(me.data?.user.email).toBe(email);
    expect(me.data?.csrfToken).toBe(client.csrfToken);

    const logout = await client.api.POST('/api/auth/logout');
    expect(logout.response.status).toBe(204);
    expect(logout.data).toBeUndefined();
    const afterLogout = await client.api.GET('/api/auth/me');
    expect(afterLogout.response.status).toBe(401);
    expectErrorView(afterLogout.error, 401, 'Unauthorized');

    const login = await client.api.POST('/api/auth/login', {
      body: { email, password: TEST_PASSWORD },
    });
    expect(login.response.status).toBe(200);
    expect(login.data?.user).toEqual({ id: me.data?.user.id, email });
    expect(client.csrfToken).toBe(login.data?.csrfToken);
    expect((await client.api.GET('/api/auth/me')).data?.user.email).toBe(email);
  });

  it('creates, lists in pages with a cursor and counts, updates, toggles, clears and deletes', async () => {
    const { client } = await registeredTypedClient(gateway.url, 'typed');
    const titles = ['one', 'two', 'three', 'four', 'five'];
    const created: Task[] = [];
    for (const title of titles) created.push(await create(client, title));
    expect(created.map((task) => [task.title, task.done])).toEqual(
      titles.map((title) => [title, false]),
    );

    // Pages of 2, oldest first, chained by nextCursor; the counts cover the whole list.
    const pages: components['schemas']['TaskListView'][] = [];
    let cursor: string | undefined;
    do {
      const { data, response } = await client.api.GET('/api/tasks', {
        params: { query: { limit: 2, ...(cursor === undefined ? {} : { cursor }) } },
      });
      expect(response.status).toBe(200);
      if (data === undefined) throw new Error('no page in a 200');
      pages.push(data);
      cursor = data.nextCursor ?? undefined;
    } while (cursor !== undefined && pages.length < 5);
    expect(pages.map((page) => page.tasks.map((task) => task.title))).toEqual([
      ['one', 'two'],
      ['three', 'four'],
      ['five'],
    ]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    for (const page of pages) expect(page.counts).toEqual({ active: 5, completed: 0 });

    // One task done, another renamed.
    const [first, second, third] = created;
    const done = await client.api.PATCH('/api/tasks/{id}', {
      params: { path: { id: first.id } },
      body: { done: true },
    });
    expect(done.response.status).toBe(200);
    expect(done.data).toMatchObject({ id: first.id, title: 'one', done: true });
    const renamed = await client.api.PATCH('/api/tasks/{id}', {
      params: { path: { id: second.id } },
      body: { title: '  two, renamed  ' },
    });
    expect(renamed.data).toMatchObject({ id: second.id, title: 'two, renamed', done: false });
    const one = await client.api.GET('/api/tasks/{id}', { params: { path: { id: second.id } } });
    expect(one.data).toEqual(renamed.data);

    const completed = await client.api.GET('/api/tasks', {
      params: { query: { status: 'completed' } },
    });
    expect(completed.data?.tasks.map((task) => task.id)).toEqual([first.id]);
    expect(completed.data?.counts).toEqual({ active: 4, completed: 1 });

    // Every task done (four changed), then the completed ones cleared, with no body.
    const toggled = await client.api.POST('/api/tasks/toggle-all', { body: { done: true } });
    expect(toggled.response.status).toBe(200);
    expect(toggled.data).toEqual({ updated: 4 });
    const active = await client.api.GET('/api/tasks', { params: { query: { status: 'active' } } });
    expect(active.data).toEqual({
      tasks: [],
      nextCursor: null,
      counts: { active: 0, completed: 5 },
    });

    const undone = await client.api.PATCH('/api/tasks/{id}', {
      params: { path: { id: third.id } },
      body: { done: false },
    });
    expect(undone.data?.done).toBe(false);
    const cleared = await client.api.POST('/api/tasks/clear-completed');
    expect(cleared.response.status).toBe(200);
    expect(cleared.data).toEqual({ deleted: 4 });

    // The last task deleted: 204 without a body, then 404 with the error body.
    const deleted = await client.api.DELETE('/api/tasks/{id}', {
      params: { path: { id: third.id } },
    });
    expect(deleted.response.status).toBe(204);
    expect(deleted.data).toBeUndefined();
    const gone = await client.api.GET('/api/tasks/{id}', { params: { path: { id: third.id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.data).toBeUndefined();
    expectErrorView(gone.error, 404, 'Not Found');
    const empty = await client.api.GET('/api/tasks');
    expect(empty.data).toEqual({
      tasks: [],
      nextCursor: null,
      counts: { active: 0, completed: 0 },
    });
  });

  it('answers the 4xx errors the document declares with its error body', async () => {
    const { client } = await registeredTypedClient(gateway.url, 'typed');

    const blank = await client.api.POST('/api/tasks', { body: { title: '   ' } });
    expect(blank.response.status).toBe(400);
    expect(blank.data).toBeUndefined();
    expectErrorView(blank.error, 400, 'Bad Request');
    expect(blank.error?.message).toBe('title must be 1 to 500 characters long after trimming');

    // A body of the wrong type does not compile, and the server refuses it as well.
    const wrongType = await client.api.POST('/api/tasks', {
      // @ts-expect-error -- CreateTaskDto's title is a string
      body: { title: 42 },
    });
    expect(wrongType.response.status).toBe(400);
    expectErrorView(wrongType.error, 400, 'Bad Request');

    // A field the document does not have is refused.
    const extra = await client.api.POST('/api/tasks', {
      body: { title: 'milk', ...{ priority: 1 } },
    });
    expect(extra.response.status).toBe(400);
    expect(extra.error?.message).toBe('property priority should not exist');

    const badCursor = await client.api.GET('/api/tasks', {
      params: { query: { cursor: 'not-a-cursor' } },
    });
    expect(badCursor.response.status).toBe(400);
    expectErrorView(badCursor.error, 400, 'Bad Request');

    const task = await create(client, 'kept');
    const token = client.csrfToken;
    client.csrfToken = undefined;
    const withoutToken = await client.api.DELETE('/api/tasks/{id}', {
      params: { path: { id: task.id } },
    });
    expect(withoutToken.response.status).toBe(403);
    expectErrorView(withoutToken.error, 403, 'Forbidden');
    client.csrfToken = token;

    const stranger = await client.api.GET('/api/tasks/{id}', {
      params: { path: { id: '65f000000000000000000000' } },
    });
    expectErrorView(stranger.error, 404, 'Not Found');

    const anonymous = await new TypedApiClient(gateway.url).api.GET('/api/tasks');
    expect(anonymous.response.status).toBe(401);
    expectErrorView(anonymous.error, 401, 'Unauthorized');

    const list = await client.api.GET('/api/tasks');
    expect(list.data?.tasks.map((t) => t.id)).toEqual([task.id]);
  });
});
