/* eslint-disable @typescript-eslint/no-unsafe-argument -- JSON response bodies are untyped */
import {
  ApiClient,
  HOST_SESSION_COOKIE,
  SESSION_COOKIE,
  uniqueEmail,
} from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  waitFor,
  type RunningProcess,
} from '../../../test/support/processes';

const SECRET = 'an-e2e-session-secret-of-at-least-32-characters';

describe('gateway: production cookies behind a TLS proxy, and Redis outages', () => {
  let stack: IsolatedStack;
  let production: RunningProcess;
  let plainHttp: RunningProcess;
  let withoutRedis: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwprod');
    [production, plainHttp] = await Promise.all([
      startService('gateway', stack, { NODE_ENV: 'production', SESSION_SECRET: SECRET }),
      // compose: production on plain HTTP says so (docker-compose.yml).
      startService('gateway', stack, {
        NODE_ENV: 'production',
        SESSION_SECRET: SECRET,
        HTTPS_ONLY: 'false',
      }),
    ]);
    // Same secret and stack, but Redis points at a port nobody listens on.
    const port = await freePort();
    withoutRedis = spawnService(
      'gateway',
      serviceEnvironment(stack, port, {
        SESSION_SECRET: SECRET,
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      }),
    );
    await waitFor('gateway without Redis to be live', async () => {
      if (!withoutRedis.isRunning) throw new Error(withoutRedis.output);
      return (await fetch(`${withoutRedis.url}/health/live`)).status === 200;
    });
    // Three gateways starting: more than the default minute on a loaded machine.
  }, 150_000);

  afterAll(async () => {
    await withoutRedis?.stop();
    await plainHttp?.stop();
    await production?.stop();
    await stack?.cleanup();
  });

  it('names the cookie __Host- and marks it Secure when the load balancer forwarded HTTPS', async () => {
    const api = new ApiClient(production.url);
    const response = await api.request('POST', '/api/auth/register', {
      body: { email: uniqueEmail('tls'), password: 'correct horse battery' },
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(response.status).toBe(201);
    const cookie = api.lastSetCookie.find((line) => line.startsWith(`${HOST_SESSION_COOKIE}=`));
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    expect(response.headers.get('content-security-policy')).toContain('upgrade-insecure-requests');
  });

  it('still works over plain HTTP in production with HTTPS_ONLY=false (compose), without the Secure flag', async () => {
    const api = new ApiClient(plainHttp.url);
    expect((await api.register(uniqueEmail('plain'))).status).toBe(201);
    const cookie = api.lastSetCookie.find((line) => line.startsWith(`${SESSION_COOKIE}=`));
    expect(cookie).not.toMatch(/Secure/i);
    expect((await api.get('/api/auth/me')).status).toBe(200);
  });

  it('never leaks a stack trace in production errors', async () => {
    const response = await new ApiClient(production.url).request('POST', '/api/auth/login', {
      raw: '{"email":',
    });
    expect(response.status).toBe(400);
    expect(Object.keys(response.body).sort()).toEqual(['error', 'message', 'statusCode']);
    expect(response.text).not.toMatch(/\bat .+\(.+:\d+:\d+\)/);
  });

  it('answers 503 quickly (no hang, no 500) for session requests while Redis is down', async () => {
    // A valid session cookie from a healthy gateway (same secret, same cookie name).
    const healthy = new ApiClient(plainHttp.url);
    expect((await healthy.register(uniqueEmail('outage'))).status).toBe(201);
    const stranded = healthy.on(withoutRedis.url);
    const started = Date.now();
    const responses = await Promise.all([
      stranded.get('/api/auth/me'),
      stranded.get('/api/tasks'),
      stranded.post('/api/tasks', { title: 'lost?' }),
      new ApiClient(withoutRedis.url).register(uniqueEmail('down')),
      new ApiClient(withoutRedis.url).login(uniqueEmail('down'), 'whatever password'),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const response of responses) {
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        statusCode: 503,
        message: expect.any(String),
        error: 'Service Unavailable',
      });
    }
    expect((await fetch(`${withoutRedis.url}/health/ready`)).status).toBe(503);
    // Without a cookie nothing needs Redis: a plain 401.
    expect((await new ApiClient(withoutRedis.url).get('/api/tasks')).status).toBe(401);
    // Nothing was written through the stranded session.
    expect((await healthy.get('/api/tasks')).body).toMatchObject({ tasks: [], nextCursor: null });
  });
});
