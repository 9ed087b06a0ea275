/* eslint-disable @typescript-eslint/no-unsafe-argument -- JSON response bodies are untyped */
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { registeredClient, type ApiClient } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { PausableProxy } from '../../../test/support/pausable-proxy';
import { metricValue } from '../../../test/support/pipeline';
import { startService, type RunningProcess } from '../../../test/support/processes';

interface Page {
  tasks: { id: string; title: string; done: boolean }[];
  nextCursor: string | null;
  counts: { active: number; completed: number };
}

const reads = (gateway: RunningProcess, source: 'cache' | 'query' | 'joined') =>
  metricValue(gateway.url, `gateway_task_list_reads_total{source="${source}"}`);

/**
 * The bounded task list (docs/api.md, Pagination; docs/configuration.md, Limits): pages and
 * counts, the per-account cap, the title's byte bound, and the cache around the list (its
 * size bound, its checksum, one query for concurrent misses).
 */
describe('gateway: the task list in pages, and the bounds of one account', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let db: mongo.MongoClient;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwlist');
    gateway = await startService('gateway', stack);
    db = new mongo.MongoClient(stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    await db.connect();
  });

  afterAll(async () => {
    await db?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  async function user(on = gateway): Promise<{ api: ApiClient; id: string }> {
    const api = await registeredClient(on.url, 'list');
    const me = await api.get('/api/auth/me');
    return { api, id: me.body.user.id as string };
  }

  /** Tasks written straight into MongoDB, one second apart, every third one done. */
  async function seed(userId: string, count: number): Promise<void> {
    const base = Date.now() - 10 * 86_400_000;
    await db
      .db()
      .collection('tasks')
      .insertMany(
        Array.from({ length: count }, (_, i) => ({
          _id: new mongo.ObjectId(),
          userId: new mongo.ObjectId(userId),
          title: `seeded ${i}`,
          done: i % 3 === 0,
          createdAt: new Date(base + i * 1000),
          updatedAt: new Date(base + i * 1000),
          deletedAt: null,
          outbox: [],
        })),
      );
  }

  async function allPages(api: ApiClient, query: string): Promise<Page[]> {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const response = await api.get('/api/tasks', { query: `${query}${suffix}` });
      expect(response.status).toBe(200);
      pages.push(response.body as Page);
      cursor = (response.body as Page).nextCursor;
    } while (cursor !== null && pages.length < 20);
    return pages;
  }

  it('pages oldest first with a cursor, each page with the counts of the whole list', async () => {
    const { api } = await user();
    const titles = ['one', 'two', 'three', 'four', 'five', 'six', 'seven'];
    const ids: string[] = [];
    for (const title of titles) ids.push((await api.post('/api/tasks', { title })).body.id);
    await api.patch(`/api/tasks/${ids[1]}`, { done: true });
    await api.patch(`/api/tasks/${ids[4]}`, { done: true });

    const pages = await allPages(api, 'limit=3');
    expect(pages.map((page) => page.tasks.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.tasks.map((task) => task.title))).toEqual(titles);
    expect(pages.at(-1)?.nextCursor).toBeNull();
    for (const page of pages) expect(page.counts).toEqual({ active: 5, completed: 2 });

    // The whole list on one page counts itself; a full page still counts the list.
    const whole = (await api.get('/api/tasks')).body as Page;
    expect(whole.tasks.map((task) => task.id)).toEqual(ids);
    expect(whole.nextCursor).toBeNull();
    expect(whole.counts).toEqual({ active: 5, completed: 2 });
    expect(((await api.get('/api/tasks', { query: 'limit=7' })).body as Page).counts).toEqual({
      active: 5,
      completed: 2,
    });

    const active = await allPages(api, 'status=active&limit=2');
    expect(active.flatMap((page) => page.tasks.map((task) => task.title))).toEqual([
      'one',
      'three',
      'four',
      'six',
      'seven',
    ]);
    expect(active.map((page) => page.tasks.length)).toEqual([2, 2, 1]);
  });

  it('pages through a list longer than the default page of 500', async () => {
    const { api, id } = await user();
    await seed(id, 502);
    const pages = await allPages(api, 'status=all');
    expect(pages.map((page) => page.tasks.length)).toEqual([500, 2]);
    const titles = pages.flatMap((page) => page.tasks.map((task) => task.title));
    expect(titles).toEqual(Array.from({ length: 502 }, (_, i) => `seeded ${i}`));
    expect(pages[0].counts).toEqual({ active: 334, completed: 168 });
    // A write moves the list on; the cursor still names a place in it.
    const [first] = pages[0].tasks;
    expect((await api.delete(`/api/tasks/${first.id}`)).status).toBe(204);
    const again = await allPages(api, 'status=all');
    expect(again.map((page) => page.tasks.length)).toEqual([500, 1]);
    expect(again[1].counts).toEqual({ active: 334, completed: 167 });
  });

  it.each([
    'limit=0',
    'limit=501',
    'limit=abc',
    'limit=1.5',
    'limit=01',
    'limit=1&limit=2',
    'cursor=not-a-cursor',
    `cursor=${Buffer.from('1700000000000.zzzzzzzzzzzzzzzzzzzzzzzz').toString('base64url')}`,
    'cursor=',
    'status=done',
    'page=2',
  ])('400 for the query %s', async (query) => {
    const { api } = await user();
    const response = await api.get('/api/tasks', { query });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      statusCode: 400,
      message: expect.any(String),
      error: 'Bad Request',
    });
  });

  it('refuses a title over 2,000 UTF-8 bytes even within 500 characters (400)', async () => {
    const { api } = await user();
    const heart = '\u2764\uFE0F'; // one character of 6 bytes
    const tooHeavy = await api.post('/api/tasks', { title: heart.repeat(400) });
    expect(tooHeavy.status).toBe(400);
    expect(tooHeavy.body.message).toContain('2000 bytes');
    const fits = await api.post('/api/tasks', { title: heart.repeat(333) });
    expect(fits.status).toBe(201);
    const renamed = await api.patch(`/api/tasks/${fits.body.id}`, { title: heart.repeat(400) });
    expect(renamed.status).toBe(400);
    expect((await api.post('/api/tasks', { title: 'é'.repeat(501) })).status).toBe(400);
    // A lone surrogate is no reason for a 5xx.
    expect((await api.post('/api/tasks', { title: '\uD800'.repeat(10) })).status).toBeLessThan(500);
  });

  it('stops an account at the default cap of 5,000 tasks with a 409 that says so', async () => {
    const { api, id } = await user();
    await seed(id, 4_999);
    expect((await api.post('/api/tasks', { title: 'number 5000' })).status).toBe(201);
    const refused = await api.post('/api/tasks', { title: 'number 5001' });
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      statusCode: 409,
      message: expect.stringContaining('5000 tasks'),
      error: 'Conflict',
    });
    const first = await api.get('/api/tasks', { query: 'limit=1' });
    expect(first.body.counts.active + first.body.counts.completed).toBe(5_000);
  });

  describe('with small bounds (TASKS_PER_USER_MAX=3, TASK_LIST_CACHE_MAX_BYTES=1024)', () => {
    let small: RunningProcess;

    beforeAll(async () => {
      small = await startService('gateway', stack, {
        TASKS_PER_USER_MAX: '3',
        TASK_LIST_CACHE_MAX_BYTES: '1024',
      });
    });

    afterAll(() => small?.stop());

    it('refuses the task beyond the cap, and takes one again after a delete', async () => {
      const { api } = await user(small);
      const ids: string[] = [];
      for (const title of ['a', 'b', 'c']) {
        const created = await api.post('/api/tasks', { title });
        expect(created.status).toBe(201);
        ids.push(created.body.id);
      }
      const refused = await api.post('/api/tasks', { title: 'd' });
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('3 tasks');
      expect((await api.get('/api/tasks')).body.tasks).toHaveLength(3);
      // Another account has its own allowance.
      const other = await user(small);
      expect((await other.api.post('/api/tasks', { title: 'mine' })).status).toBe(201);
      expect((await api.delete(`/api/tasks/${ids[0]}`)).status).toBe(204);
      expect((await api.post('/api/tasks', { title: 'd' })).status).toBe(201);
    });

    it('answers a page above the size bound but does not cache it', async () => {
      const { api, id } = await user(small);
      await seed(id, 20); // about 2 KB of JSON
      const before = { cache: await reads(small, 'cache'), query: await reads(small, 'query') };
      for (let i = 0; i < 3; i++) {
        const page = await api.get('/api/tasks');
        expect(page.body.tasks).toHaveLength(20);
        expect(page.text.length).toBeGreaterThan(1024);
      }
      expect(await reads(small, 'query')).toBe(before.query + 3);
      expect(await reads(small, 'cache')).toBe(before.cache);

      const smallPage = await api.get('/api/tasks', { query: 'limit=2' });
      expect(smallPage.text.length).toBeLessThan(1024);
      await api.get('/api/tasks', { query: 'limit=2' });
      expect(await reads(small, 'query')).toBe(before.query + 4);
      expect(await reads(small, 'cache')).toBe(before.cache + 1);
    });
  });

  it('refuses a damaged cache entry and answers from MongoDB', async () => {
    const { api, id } = await user();
    await api.post('/api/tasks', { title: 'the real title' });
    const fresh = await api.get('/api/tasks');
    const redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    try {
      const keys: string[] = [];
      for await (const found of redis.scanIterator({
        MATCH: `${stack.redisPrefix}cache:tasks:${id}:*`,
      })) {
        keys.push(...found);
      }
      expect(keys).toHaveLength(1);
      const entry = await redis.get(keys[0]);
      expect(entry).toContain('the real title');
      // A changed body under its old checksum, then a cut one.
      for (const damaged of [
        entry!.replace('the real title', 'a forged title'),
        entry!.slice(0, -2),
      ]) {
        await redis.set(keys[0], damaged, { PX: 60_000 });
        const queriesBefore = await reads(gateway, 'query');
        const answer = await api.get('/api/tasks');
        expect(answer.status).toBe(200);
        expect(answer.text).toBe(fresh.text);
        expect(await reads(gateway, 'query')).toBe(queriesBefore + 1);
        expect(await redis.get(keys[0])).toBe(entry);
      }
    } finally {
      await redis.close();
    }
  });

  describe('concurrent misses for one page', () => {
    let proxy: PausableProxy;
    let proxied: RunningProcess;

    beforeAll(async () => {
      const target = new URL(stack.mongodbUri);
      proxy = await PausableProxy.start({ host: target.hostname, port: Number(target.port) });
      target.host = `127.0.0.1:${proxy.port}`;
      proxied = await startService('gateway', stack, { MONGODB_URI: target.toString() });
    });

    afterAll(async () => {
      await proxied?.stop();
      await proxy?.stop();
    });

    it('share one MongoDB query (single-flight), and all get its answer', async () => {
      const { api } = await user(proxied);
      for (const title of ['x', 'y']) await api.post('/api/tasks', { title });
      const before = {
        cache: await reads(proxied, 'cache'),
        query: await reads(proxied, 'query'),
        joined: await reads(proxied, 'joined'),
      };
      const parallel = 20;
      // MongoDB (behind the proxy) holds the first query while the others arrive. (/metrics
      // cannot be read meanwhile: its outbox gauges query MongoDB too.)
      proxy.pause();
      const answers = Promise.all(
        Array.from({ length: parallel }, () => api.get('/api/tasks', { query: 'status=all' })),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      proxy.resume();
      const responses = await answers;
      expect(responses.map((response) => response.status)).toEqual(Array(parallel).fill(200));
      expect(new Set(responses.map((response) => response.text)).size).toBe(1);
      expect((responses[0].body as Page).tasks.map((task) => task.title)).toEqual(['x', 'y']);
      // Exactly one query whatever the timing: a read that misses while it runs joins it, and
      // one that comes later finds the page it stored (Redis answers one connection in order).
      const joined = (await reads(proxied, 'joined')) - before.joined;
      const cached = (await reads(proxied, 'cache')) - before.cache;
      expect(joined).toBeGreaterThan(0);
      expect(joined + cached).toBe(parallel - 1);
      expect(await reads(proxied, 'query')).toBe(before.query + 1);
    });
  });
});
