import { ApiClient, registeredClient, uniqueEmail } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';

/**
 * Two gateway processes on different ports over the same Redis and MongoDB, as two pods behind
 * a load balancer: nothing about a user may live in one process's memory.
 */
describe('gateway: two processes share sessions, cache and throttling', () => {
  let stack: IsolatedStack;
  let podA: RunningProcess;
  let podB: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwpods');
    [podA, podB] = await Promise.all([
      startService('gateway', stack),
      startService('gateway', stack),
    ]);
    expect(podA.port).not.toBe(podB.port);
  });

  afterAll(async () => {
    await Promise.all([podA?.stop(), podB?.stop()]);
    await stack?.cleanup();
  });

  it('a session created on A is valid on B, with the same CSRF token', async () => {
    const onA = await registeredClient(podA.url, 'pods');
    const onB = onA.on(podB.url);
    const me = await onB.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.csrfToken).toBe(onA.csrfToken);
    // The flash notice of the registration on A is read on B.
    expect(me.body.notices).toEqual(['Welcome to Taskit']);
    const created = await onB.post('/api/tasks', { title: 'made on B' });
    expect(created.status).toBe(201);
  });

  it('a logout on A kills the session on B at once', async () => {
    const onA = await registeredClient(podA.url, 'logout');
    const onB = onA.on(podB.url);
    expect((await onB.get('/api/tasks')).status).toBe(200);
    expect((await onA.logout()).status).toBe(204);
    expect((await onB.get('/api/auth/me')).status).toBe(401);
    expect((await onB.get('/api/tasks')).status).toBe(401);
    expect((await onB.post('/api/tasks', { title: 'after logout' })).status).toBe(401);
  });

  it('a write through one pod is visible at once through the other, cached lists included', async () => {
    const onA = await registeredClient(podA.url, 'cache');
    const onB = onA.on(podB.url);
    const first = (await onA.post('/api/tasks', { title: 'one' })).body.id as string;
    for (let round = 0; round < 5; round += 1) {
      // Warm B's cached lists, write through A, read through B straight away.
      for (const query of ['status=all', 'status=active', 'status=completed']) {
        expect((await onB.get('/api/tasks', { query })).status).toBe(200);
      }
      const title = `renamed ${round}`;
      const done = round % 2 === 0;
      const patched = await onA.patch(`/api/tasks/${first}`, { title, done });
      expect(patched.status).toBe(200);
      const all = await onB.get('/api/tasks');
      expect(all.body.tasks).toEqual([patched.body]);
      const completed = await onB.get('/api/tasks', { query: 'status=completed' });
      expect(completed.body.tasks).toEqual(done ? [patched.body] : []);
      const active = await onB.get('/api/tasks', { query: 'status=active' });
      expect(active.body.tasks).toEqual(done ? [] : [patched.body]);
    }
    // Bulk operations and deletes through B, read through A.
    // (The loop ended with the task done.)
    await onA.get('/api/tasks', { query: 'status=active' });
    expect((await onB.post('/api/tasks/toggle-all', { done: false })).body).toEqual({ updated: 1 });
    expect((await onA.get('/api/tasks', { query: 'status=active' })).body.tasks).toHaveLength(1);
    expect((await onB.post('/api/tasks/toggle-all', { done: true })).body).toEqual({ updated: 1 });
    expect((await onA.get('/api/tasks', { query: 'status=active' })).body.tasks).toEqual([]);
    expect((await onB.post('/api/tasks/clear-completed')).body).toEqual({ deleted: 1 });
    expect((await onA.get('/api/tasks')).body.tasks).toEqual([]);
  });

  it('reads racing writes on both pods never leave a stale list behind', async () => {
    const onA = await registeredClient(podA.url, 'race');
    const onB = onA.on(podB.url);
    for (let i = 0; i < 8; i += 1) {
      const [created] = await Promise.all([
        onA.post('/api/tasks', { title: `task ${i}` }),
        onB.get('/api/tasks'),
        onB.get('/api/tasks'),
        onA.get('/api/tasks'),
      ]);
      expect(created.status).toBe(201);
      for (const pod of [onA, onB]) {
        expect((await pod.get('/api/tasks')).body.tasks).toHaveLength(i + 1);
      }
    }
  });

  it('login throttling counts failures on every pod together', async () => {
    const email = uniqueEmail('shared-throttle');
    expect((await new ApiClient(podA.url).register(email)).status).toBe(201);
    // Default limit: 5 failures per account, spread over both pods.
    for (let i = 0; i < 5; i += 1) {
      const pod = i % 2 === 0 ? podA : podB;
      expect((await new ApiClient(pod.url).login(email, 'wrong password')).status).toBe(401);
    }
    for (const pod of [podA, podB]) {
      const locked = await new ApiClient(pod.url).login(email);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
