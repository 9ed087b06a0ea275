/* eslint-disable @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call -- JSON response bodies are untyped */
import { mongo } from 'mongoose';
import { ApiClient, registeredClient } from '../../../test/support/api-client';
import { eventually } from '../../../test/support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';
import { TaskEventCollector } from '../../../test/support/task-events';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TASK_KEYS = ['createdAt', 'done', 'id', 'title', 'updatedAt'];
const EMPTY_LIST = { tasks: [], nextCursor: null, counts: { active: 0, completed: 0 } };

describe('gateway: tasks API (docs/api.md, HTTP API) and its events (section 4)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let events: TaskEventCollector;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwtasks');
    gateway = await startService('gateway', stack);
    events = new TaskEventCollector(stack);
    await events.start();
  });

  afterAll(async () => {
    await events?.stop();
    await gateway?.stop();
    await stack?.cleanup();
  });

  async function user(label = 'tasks'): Promise<{ api: ApiClient; id: string }> {
    const api = await registeredClient(gateway.url, label);
    const me = await api.get('/api/auth/me');
    return { api, id: me.body.user.id as string };
  }

  async function create(api: ApiClient, title: string): Promise<string> {
    const response = await api.post('/api/tasks', { title });
    expect(response.status).toBe(201);
    return response.body.id as string;
  }

  const tasksDoc = (id: string) =>
    events.db.collection('tasks').findOne({ _id: new mongo.ObjectId(id) });

  async function expectEvents(userId: string, expected: Record<string, string[]>): Promise<void> {
    await eventually(async () => expect(await events.typesByTask(userId)).toEqual(expected));
  }

  describe('without a session', () => {
    it.each([
      ['GET', '/api/tasks'],
      ['POST', '/api/tasks'],
      ['GET', '/api/tasks/65f000000000000000000000'],
      ['PATCH', '/api/tasks/65f000000000000000000000'],
      ['DELETE', '/api/tasks/65f000000000000000000000'],
      ['POST', '/api/tasks/toggle-all'],
      ['POST', '/api/tasks/clear-completed'],
    ])('%s %s answers 401', async (method, path) => {
      const response = await new ApiClient(gateway.url).request(method, path, {
        body: method === 'GET' ? undefined : { title: 'x', done: true },
        csrf: 'whatever',
      });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        statusCode: 401,
        message: 'Not logged in',
        error: 'Unauthorized',
      });
    });
  });

  describe('POST /api/tasks', () => {
    it('201 with the Task (title trimmed), stored with a task.created event in its outbox', async () => {
      const { api, id: userId } = await user();
      const response = await api.post('/api/tasks', { title: '  Buy milk \n' });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(TASK_KEYS);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{24}$/),
        title: 'Buy milk',
        done: false,
        createdAt: expect.stringMatching(ISO),
        updatedAt: response.body.createdAt,
      });
      const document = await tasksDoc(response.body.id);
      expect(document).toMatchObject({ title: 'Buy milk', done: false, deletedAt: null });
      expect(String(document!.userId)).toBe(userId);
      const [event] = await events.eventsOf(userId);
      expect(event).toEqual({
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'task.created',
        taskId: response.body.id,
        userId,
        occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/),
        version: 1,
      });
      await expectEvents(userId, { [response.body.id]: ['task.created'] });
    });

    it('accepts 500 characters and refuses 501, empty and blank titles (400)', async () => {
      const { api, id: userId } = await user();
      expect((await api.post('/api/tasks', { title: 'x'.repeat(500) })).status).toBe(201);
      for (const title of ['x'.repeat(501), '', '   ', '\t\n']) {
        const response = await api.post('/api/tasks', { title });
        expect(response.status).toBe(400);
        expect(response.body.error).toBe('Bad Request');
      }
      expect((await api.post('/api/tasks', {})).status).toBe(400);
      expect((await api.get('/api/tasks')).body.tasks).toHaveLength(1);
      expect((await events.eventsOf(userId)).length).toBe(1);
    });

    it('403 without the CSRF token, and nothing is created', async () => {
      const { api } = await user();
      const response = await api.post('/api/tasks', { title: 'sneaky' }, { csrf: false });
      expect(response.status).toBe(403);
      expect((await api.get('/api/tasks')).body).toEqual(EMPTY_LIST);
    });
  });

  describe('GET /api/tasks', () => {
    it('200 with the tasks oldest first, filtered by status, never showing outbox fields', async () => {
      const { api } = await user();
      const ids: string[] = [];
      for (const title of ['first', 'second', 'third', 'fourth'])
        ids.push(await create(api, title));
      await api.patch(`/api/tasks/${ids[1]}`, { done: true });
      await api.patch(`/api/tasks/${ids[3]}`, { done: true });

      const all = await api.get('/api/tasks');
      expect(all.status).toBe(200);
      expect(all.body.tasks.map((t: { title: string }) => t.title)).toEqual([
        'first',
        'second',
        'third',
        'fourth',
      ]);
      for (const task of all.body.tasks) expect(Object.keys(task).sort()).toEqual(TASK_KEYS);
      expect((await api.get('/api/tasks', { query: 'status=all' })).body).toEqual(all.body);
      const active = await api.get('/api/tasks', { query: 'status=active' });
      expect(active.body.tasks.map((t: { id: string }) => t.id)).toEqual([ids[0], ids[2]]);
      const completed = await api.get('/api/tasks', { query: 'status=completed' });
      expect(completed.body.tasks.map((t: { id: string }) => t.id)).toEqual([ids[1], ids[3]]);
    });

    it('400 for an unknown status or extra query parameters', async () => {
      const { api } = await user();
      expect((await api.get('/api/tasks', { query: 'status=done' })).status).toBe(400);
      expect((await api.get('/api/tasks', { query: 'page=2' })).status).toBe(400);
    });

    it('is never stale after a write on the same gateway (the list is cached)', async () => {
      const { api } = await user();
      const id = await create(api, 'cached');
      for (const query of ['status=all', 'status=active', 'status=completed']) {
        await api.get('/api/tasks', { query }); // warm every cached variant
      }
      await api.patch(`/api/tasks/${id}`, { done: true, title: 'cached and done' });
      expect((await api.get('/api/tasks', { query: 'status=active' })).body.tasks).toEqual([]);
      expect((await api.get('/api/tasks', { query: 'status=completed' })).body.tasks).toEqual([
        expect.objectContaining({ id, title: 'cached and done', done: true }),
      ]);
      await api.delete(`/api/tasks/${id}`);
      expect((await api.get('/api/tasks')).body.tasks).toEqual([]);
    });
  });

  describe('GET /api/tasks/:id', () => {
    it('200 with the Task; 404 for a missing or malformed id', async () => {
      const { api } = await user();
      const id = await create(api, 'one');
      const found = await api.get(`/api/tasks/${id}`);
      expect(found.status).toBe(200);
      expect(found.body).toEqual(expect.objectContaining({ id, title: 'one', done: false }));
      expect(Object.keys(found.body).sort()).toEqual(TASK_KEYS);
      for (const missing of [new mongo.ObjectId().toHexString(), 'not-an-id', 'aaaaaaaaaaaa']) {
        const response = await api.get(`/api/tasks/${missing}`);
        expect(response.status).toBe(404);
        expect(response.body).toEqual({
          statusCode: 404,
          message: 'Task not found',
          error: 'Not Found',
        });
      }
    });
  });

  describe('PATCH /api/tasks/:id', () => {
    it('records task.updated, task.completed and task.uncompleted for real changes only', async () => {
      const { api, id: userId } = await user();
      const id = await create(api, 'draft');
      const created = await api.get(`/api/tasks/${id}`);

      const renamed = await api.patch(`/api/tasks/${id}`, { title: '  final  ' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id, title: 'final', done: false });
      expect(Date.parse(renamed.body.updatedAt)).toBeGreaterThanOrEqual(
        Date.parse(created.body.updatedAt),
      );
      expect(renamed.body.createdAt).toBe(created.body.createdAt);

      const done = await api.patch(`/api/tasks/${id}`, { done: true });
      expect(done.body).toMatchObject({ title: 'final', done: true });

      // No actual change: 200, nothing recorded, updatedAt kept.
      const same = await api.patch(`/api/tasks/${id}`, { title: 'final', done: true });
      expect(same.status).toBe(200);
      expect(same.body).toEqual(done.body);
      expect((await api.patch(`/api/tasks/${id}`, {})).body).toEqual(done.body);

      const both = await api.patch(`/api/tasks/${id}`, { title: 'reopened', done: false });
      expect(both.body).toMatchObject({ title: 'reopened', done: false });

      await expectEvents(userId, {
        [id]: [
          'task.created',
          'task.updated',
          'task.completed',
          'task.updated',
          'task.uncompleted',
        ],
      });
      const document = await tasksDoc(id);
      expect(document).toMatchObject({ title: 'reopened', done: false });
    });

    it('keeps events consistent with the final state under concurrent toggles', async () => {
      const { api, id: userId } = await user();
      const id = await create(api, 'contended');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api.patch(`/api/tasks/${id}`, { done: i % 2 === 0 })),
      );
      expect(results.every((r) => r.status === 200)).toBe(true);
      const final = (await api.get(`/api/tasks/${id}`)).body.done as boolean;
      const types = (await events.typesByTask(userId))[id];
      expect(types[0]).toBe('task.created');
      const flips = types.slice(1);
      // Each recorded flip is a real change: they alternate, starting with completed.
      flips.forEach((type, i) =>
        expect(type).toBe(i % 2 === 0 ? 'task.completed' : 'task.uncompleted'),
      );
      expect(flips.length % 2 === 1).toBe(final);
    });

    it('400 for invalid fields, 403 without CSRF, 404 for missing tasks; nothing changes', async () => {
      const { api, id: userId } = await user();
      const id = await create(api, 'stable');
      for (const body of [
        { title: '' },
        { title: 'x'.repeat(501) },
        { done: 'true' },
        { done: null },
        { title: null },
        { title: 5 },
        { owner: 'me' },
      ]) {
        const response = await api.patch(`/api/tasks/${id}`, body);
        expect([response.status, body]).toEqual([400, body]);
      }
      expect((await api.patch(`/api/tasks/${id}`, { done: true }, { csrf: false })).status).toBe(
        403,
      );
      const missing = new mongo.ObjectId().toHexString();
      expect((await api.patch(`/api/tasks/${missing}`, { done: true })).status).toBe(404);
      expect((await api.patch('/api/tasks/zzz', { done: true })).status).toBe(404);
      expect((await api.get(`/api/tasks/${id}`)).body).toMatchObject({
        title: 'stable',
        done: false,
      });
      await expectEvents(userId, { [id]: ['task.created'] });
    });
  });

  describe('DELETE /api/tasks/:id', () => {
    it('204; the task is gone everywhere (a tombstone with task.deleted until the relay removes it)', async () => {
      const { api, id: userId } = await user();
      const keep = await create(api, 'keep');
      const id = await create(api, 'remove me');
      const response = await api.delete(`/api/tasks/${id}`);
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect((await api.get(`/api/tasks/${id}`)).status).toBe(404);
      expect((await api.patch(`/api/tasks/${id}`, { done: true })).status).toBe(404);
      expect((await api.delete(`/api/tasks/${id}`)).status).toBe(404);
      expect((await api.get('/api/tasks')).body.tasks.map((t: { id: string }) => t.id)).toEqual([
        keep,
      ]);
      const document = await tasksDoc(id);
      if (document) expect(document.deletedAt).toBeInstanceOf(Date);
      await expectEvents(userId, {
        [keep]: ['task.created'],
        [id]: ['task.created', 'task.deleted'],
      });
    });

    it('403 without CSRF and 404 for missing ids', async () => {
      const { api } = await user();
      const id = await create(api, 'guarded');
      expect((await api.delete(`/api/tasks/${id}`, { csrf: false })).status).toBe(403);
      expect((await api.delete(`/api/tasks/${new mongo.ObjectId().toHexString()}`)).status).toBe(
        404,
      );
      expect((await api.get(`/api/tasks/${id}`)).status).toBe(200);
    });
  });

  describe('POST /api/tasks/toggle-all and /api/tasks/clear-completed', () => {
    it('toggle-all changes only what differs, one event per affected task', async () => {
      const { api, id: userId } = await user();
      const [a, b, c] = [await create(api, 'a'), await create(api, 'b'), await create(api, 'c')];
      await api.patch(`/api/tasks/${b}`, { done: true });

      const allDone = await api.post('/api/tasks/toggle-all', { done: true });
      expect(allDone.status).toBe(200);
      expect(allDone.body).toEqual({ updated: 2 });
      expect((await api.get('/api/tasks', { query: 'status=active' })).body.tasks).toEqual([]);
      expect((await api.post('/api/tasks/toggle-all', { done: true })).body).toEqual({
        updated: 0,
      });

      const allActive = await api.post('/api/tasks/toggle-all', { done: false });
      expect(allActive.body).toEqual({ updated: 3 });
      await expectEvents(userId, {
        [a]: ['task.created', 'task.completed', 'task.uncompleted'],
        [b]: ['task.created', 'task.completed', 'task.uncompleted'],
        [c]: ['task.created', 'task.completed', 'task.uncompleted'],
      });
    });

    it('toggle-all: 400 for a missing or non-boolean done, 403 without CSRF', async () => {
      const { api } = await user();
      await create(api, 'x');
      for (const body of [{}, { done: 'true' }, { done: 1 }, { done: true, extra: 1 }]) {
        expect((await api.post('/api/tasks/toggle-all', body)).status).toBe(400);
      }
      expect(
        (await api.post('/api/tasks/toggle-all', { done: true }, { csrf: false })).status,
      ).toBe(403);
      expect((await api.get('/api/tasks', { query: 'status=completed' })).body.tasks).toEqual([]);
    });

    it('clear-completed tombstones the completed tasks, one task.deleted each', async () => {
      const { api, id: userId } = await user();
      const [a, b, c] = [await create(api, 'a'), await create(api, 'b'), await create(api, 'c')];
      await api.patch(`/api/tasks/${a}`, { done: true });
      await api.patch(`/api/tasks/${c}`, { done: true });
      const cleared = await api.post('/api/tasks/clear-completed');
      expect(cleared.status).toBe(200);
      expect(cleared.body).toEqual({ deleted: 2 });
      expect((await api.get('/api/tasks')).body.tasks.map((t: { id: string }) => t.id)).toEqual([
        b,
      ]);
      expect((await api.post('/api/tasks/clear-completed')).body).toEqual({ deleted: 0 });
      expect((await api.get(`/api/tasks/${a}`)).status).toBe(404);
      await expectEvents(userId, {
        [a]: ['task.created', 'task.completed', 'task.deleted'],
        [b]: ['task.created'],
        [c]: ['task.created', 'task.completed', 'task.deleted'],
      });
      // The list shows the change; no flash notice repeats it.
      expect((await api.get('/api/auth/me')).body.notices).not.toContain(
        'Cleared 2 completed tasks',
      );
    });

    it('clear-completed: 403 without CSRF, 400 with a body', async () => {
      const { api } = await user();
      const id = await create(api, 'done');
      await api.patch(`/api/tasks/${id}`, { done: true });
      expect(
        (await api.post('/api/tasks/clear-completed', undefined, { csrf: false })).status,
      ).toBe(403);
      expect((await api.post('/api/tasks/clear-completed', { all: true })).status).toBe(400);
      expect((await api.get(`/api/tasks/${id}`)).status).toBe(200);
    });
  });

  describe('authorization matrix: another user’s task is a 404 and stays unchanged', () => {
    it('answers 404 on every id route and leaves the owner’s tasks and events untouched', async () => {
      const owner = await user('owner');
      const intruder = await user('intruder');
      const open = await create(owner.api, 'owner open');
      const done = await create(owner.api, 'owner done');
      await owner.api.patch(`/api/tasks/${done}`, { done: true });
      const before = await owner.api.get('/api/tasks');
      const eventsBefore = await events.typesByTask(owner.id);

      for (const id of [open, done]) {
        const attempts = [
          await intruder.api.get(`/api/tasks/${id}`),
          await intruder.api.patch(`/api/tasks/${id}`, { title: 'pwned', done: false }),
          await intruder.api.patch(`/api/tasks/${id}`, { done: true }),
          await intruder.api.delete(`/api/tasks/${id}`),
        ];
        for (const response of attempts) {
          expect(response.status).toBe(404);
          expect(response.body).toEqual({
            statusCode: 404,
            message: 'Task not found',
            error: 'Not Found',
          });
        }
      }
      expect((await intruder.api.post('/api/tasks/toggle-all', { done: true })).body).toEqual({
        updated: 0,
      });
      expect((await intruder.api.post('/api/tasks/toggle-all', { done: false })).body).toEqual({
        updated: 0,
      });
      expect((await intruder.api.post('/api/tasks/clear-completed')).body).toEqual({ deleted: 0 });
      expect((await intruder.api.get('/api/tasks')).body).toEqual(EMPTY_LIST);

      expect(await owner.api.get('/api/tasks')).toMatchObject({ status: 200, body: before.body });
      expect(await events.typesByTask(owner.id)).toEqual(eventsBefore);
      expect(await events.eventsOf(intruder.id)).toEqual([]);
    });
  });

  describe('storage', () => {
    it('declares the list, outbox and unique email indexes', async () => {
      const taskIndexes = (await events.db.collection('tasks').indexes()).map((i) => i.key);
      expect(taskIndexes).toEqual(
        expect.arrayContaining([
          { userId: 1, deletedAt: 1, createdAt: 1, _id: 1 },
          { outboxPending: 1, outboxSince: 1 },
        ]),
      );
      const userIndexes = await events.db.collection('users').indexes();
      expect(userIndexes).toEqual(
        expect.arrayContaining([expect.objectContaining({ key: { email: 1 }, unique: true })]),
      );
    });

    it('stores users with an argon2id hash, never the password', async () => {
      const { api } = await user('hash');
      const email = (await api.get('/api/auth/me')).body.user.email as string;
      const stored = await events.db.collection('users').findOne({ email });
      expect(stored!.passwordHash).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(stored)).not.toContain('correct horse battery');
    });
  });
});
