import { ApiClient, registeredClient, uniqueEmail } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';

const PASSWORD = 'correct horse battery';

describe('gateway: login throttling with counters in Redis', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwthrottle');
    gateway = await startService('gateway', stack, {
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_CLIENT: '10',
      LOGIN_THROTTLE_WINDOW_SECONDS: '120',
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  async function account(label: string): Promise<string> {
    const api = await registeredClient(gateway.url, label);
    return (await api.get('/api/auth/me')).body.user.email as string;
  }

  // The steps share the client address's counter, so they run in this order.
  it('a successful login resets the account counter', async () => {
    const email = await account('reset');
    for (let i = 0; i < 2; i += 1) {
      expect((await new ApiClient(gateway.url).login(email, 'wrong password')).status).toBe(401);
    }
    expect((await new ApiClient(gateway.url).login(email, PASSWORD)).status).toBe(200);
    for (let i = 0; i < 2; i += 1) {
      expect((await new ApiClient(gateway.url).login(email, 'wrong password')).status).toBe(401);
    }
    expect((await new ApiClient(gateway.url).login(email, PASSWORD)).status).toBe(200);
  });

  it('locks an account after 3 failures with 429 and Retry-After, even for the right password; other accounts are unaffected', async () => {
    const victim = await account('victim');
    const bystander = await account('bystander');
    for (let i = 0; i < 3; i += 1) {
      expect((await new ApiClient(gateway.url).login(victim, 'wrong password')).status).toBe(401);
    }
    const locked = await new ApiClient(gateway.url).login(victim.toUpperCase(), PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({
      statusCode: 429,
      message: expect.stringContaining('Too many failed login attempts'),
      error: 'Too Many Requests',
    });
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(locked.headers.get('set-cookie')).toBeNull();
    expect((await new ApiClient(gateway.url).login(bystander, PASSWORD)).status).toBe(200);
  });

  it('locks the client address after 10 failures in total, for every account', async () => {
    // 4 + 3 failures so far from this address; 3 more unknown-email failures reach 10.
    for (let i = 0; i < 3; i += 1) {
      expect((await new ApiClient(gateway.url).login(uniqueEmail('ghost'), PASSWORD)).status).toBe(
        401,
      );
    }
    const fresh = uniqueEmail('fresh');
    expect((await new ApiClient(gateway.url).register(fresh, PASSWORD)).status).toBe(201);
    const blocked = await new ApiClient(gateway.url).login(fresh, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
