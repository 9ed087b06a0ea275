import { registeredClient } from '../support/api-client';
import { eventually } from '../support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { PrivateRedis } from '../support/private-servers';
import { startService, type RunningProcess } from '../support/processes';

/**
 * A Redis that keeps its connections open but stops answering (SIGSTOP): the gateway has no
 * per-command timer, so its connection deadline (redis.module.ts) must turn the wait into a
 * 503 within a few seconds, and the gateway must serve again once Redis answers.
 */
describe('fault: Redis stops answering (SIGSTOP) while sessions are read', () => {
  let redis: PrivateRedis;
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    redis = await PrivateRedis.start('stall');
    stack = { ...(await createIsolatedStack('redisstall')), redisUrl: redis.url };
    gateway = await startService('gateway', stack);
  }, 120_000);

  afterAll(async () => {
    redis?.thaw();
    await gateway?.stop();
    await stack?.cleanup();
    await redis?.stop();
  }, 60_000);

  it('answers 503 within the deadline instead of hanging, and recovers with the session', async () => {
    const api = await registeredClient(gateway.url, 'stall');
    expect((await api.get('/api/tasks')).status).toBe(200);

    redis.freeze();
    const started = Date.now();
    const during = await api.get('/api/tasks');
    const waited = Date.now() - started;
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    // REDIS_DEADLINE_MS (5 s) plus one watch interval (1 s) plus slack for a loaded machine.
    expect(waited).toBeLessThan(9_000);

    redis.thaw();
    await eventually(async () => {
      expect((await api.get('/api/tasks')).status).toBe(200);
    }, 15_000);
  }, 60_000);
});
