/* eslint-disable @typescript-eslint/no-unsafe-call -- JSON response bodies are untyped */
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import {
  ApiClient,
  HOST_SESSION_COOKIE,
  registeredClient,
  uniqueEmail,
  type ApiResponse,
} from '../../../test/support/api-client';
import { eventually } from '../../../test/support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { PATH_SPELLINGS } from '../../../test/support/path-spellings';
import { startService, type RunningProcess } from '../../../test/support/processes';

/**
 * The authorization matrix: every protected API route × every way of not being the owner (no
 * session, an expired or destroyed session, another user's session, a missing or someone
 * else's CSRF token). Each cell answers exactly the expected status with the error shape and
 * changes nothing of the owner's (nothing at all, unless the cell is the other user acting on
 * their own data). Every response also carries the security headers, and no error body shows
 * internals.
 */
type Context = 'none' | 'expired' | 'destroyed' | 'other' | 'missing-csrf' | 'wrong-csrf';
const CONTEXTS: Context[] = ['none', 'expired', 'destroyed', 'other', 'missing-csrf', 'wrong-csrf'];

interface Route {
  method: string;
  /** `:open` and `:done` are the owner's tasks. */
  path: string;
  body?: unknown;
  query?: string;
  /** Expected status for the other user's own (valid) session and token. */
  other: number;
}

const ROUTES: Route[] = [
  { method: 'POST', path: '/api/auth/logout', other: 204 },
  { method: 'GET', path: '/api/auth/me', other: 200 },
  { method: 'GET', path: '/api/tasks', other: 200 },
  { method: 'GET', path: '/api/tasks', query: 'status=completed', other: 200 },
  { method: 'POST', path: '/api/tasks', body: { title: 'intruder' }, other: 201 },
  { method: 'GET', path: '/api/tasks/:open', other: 404 },
  { method: 'GET', path: '/api/tasks/:done', other: 404 },
  { method: 'PATCH', path: '/api/tasks/:open', body: { title: 'pwned', done: true }, other: 404 },
  { method: 'PATCH', path: '/api/tasks/:done', body: { done: false }, other: 404 },
  { method: 'DELETE', path: '/api/tasks/:open', other: 404 },
  { method: 'DELETE', path: '/api/tasks/:done', other: 404 },
  { method: 'POST', path: '/api/tasks/toggle-all', body: { done: true }, other: 200 },
  { method: 'POST', path: '/api/tasks/toggle-all', body: { done: false }, other: 200 },
  { method: 'POST', path: '/api/tasks/clear-completed', other: 200 },
  { method: 'GET', path: '/api/analytics/summary', query: 'range=1h', other: 200 },
];

const STATE_CHANGING = new Set(['POST', 'PATCH', 'DELETE']);

function expectedStatus(route: Route, context: Context): number {
  switch (context) {
    case 'none':
    case 'expired':
    case 'destroyed':
      return 401;
    case 'other':
      return route.other;
    case 'missing-csrf':
    case 'wrong-csrf':
      // The owner's own session: reads work, changes need the session's token.
      return STATE_CHANGING.has(route.method) ? 403 : 200;
  }
}

const REASONS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found' };

function expectSecurityHeaders(response: ApiResponse): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('x-frame-options')).toBeTruthy();
  expect(response.headers.get('referrer-policy')).toBeTruthy();
  expect(response.headers.get('cross-origin-opener-policy')).toBeTruthy();
  expect(response.headers.get('x-powered-by')).toBeNull();
}

/** A 4xx/5xx body: exactly the contract's shape, and nothing that tells about the internals. */
function expectCleanError(response: ApiResponse, status: number): void {
  expect(response.headers.get('content-type')).toContain('application/json');
  expect(response.body).toEqual({
    statusCode: status,
    message: expect.any(String),
    error: REASONS[status] ?? expect.any(String),
  });
  expect(response.text).not.toMatch(/\n\s+at |node_modules|\/dist\/|\.ts:\d+|Mongo[A-Z]|Redis/);
}

describe('gateway: authorization matrix (every route × every non-owner)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let db: mongo.MongoClient;
  let redis: ReturnType<typeof createClient>;
  let owner: ApiClient;
  let ownerId: string;
  const ids: Record<string, string> = {};

  /** Every user and every live task, without the outbox fields a relay may drain. */
  async function snapshot(onlyUser?: string): Promise<string> {
    const filter = onlyUser ? { userId: new mongo.ObjectId(onlyUser) } : {};
    const tasks = await db
      .db()
      .collection('tasks')
      .find(
        { ...filter, deletedAt: null },
        { projection: { outbox: 0, outboxPending: 0, outboxSince: 0 } },
      )
      .sort({ _id: 1 })
      .toArray();
    const users = onlyUser
      ? []
      : await db.db().collection('users').find().sort({ _id: 1 }).toArray();
    return JSON.stringify({ tasks, users });
  }

  /** A client in the given relation to the owner, fresh for each cell. */
  async function clientFor(context: Context): Promise<ApiClient> {
    switch (context) {
      case 'none':
        return new ApiClient(gateway.url);
      case 'expired': {
        const api = await registeredClient(gateway.url, 'expired');
        const sid = decodeURIComponent(api.sessionCookie!).slice(2).split('.')[0];
        expect(await redis.del(`${stack.redisPrefix}sess:${sid}`)).toBe(1);
        return api;
      }
      case 'destroyed': {
        const api = await registeredClient(gateway.url, 'destroyed');
        const stale = new ApiClient(gateway.url);
        stale.sessionCookie = api.sessionCookie;
        stale.csrfToken = api.csrfToken;
        expect((await api.logout()).status).toBe(204);
        return stale;
      }
      case 'other':
        return registeredClient(gateway.url, 'other');
      case 'missing-csrf': {
        const api = owner.on(gateway.url);
        api.csrfToken = undefined;
        return api;
      }
      case 'wrong-csrf': {
        const api = owner.on(gateway.url);
        api.csrfToken = (await registeredClient(gateway.url, 'token-donor')).csrfToken;
        return api;
      }
    }
  }

  beforeAll(async () => {
    stack = await createIsolatedStack('gwmatrix');
    [gateway, analytics] = await Promise.all([
      startService('gateway', stack),
      startService('analytics', stack),
    ]);
    db = new mongo.MongoClient(stack.mongodbUri);
    await db.connect();
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    owner = await registeredClient(gateway.url, 'owner');
    ownerId = (await owner.get('/api/auth/me')).body.user.id;
    ids[':open'] = (await owner.post('/api/tasks', { title: 'owner open' })).body.id;
    ids[':done'] = (await owner.post('/api/tasks', { title: 'owner done' })).body.id;
    expect((await owner.patch(`/api/tasks/${ids[':done']}`, { done: true })).status).toBe(200);
    // The owner's events are in InfluxDB before the matrix runs, so that another user's
    // summary showing zeros means something.
    await eventually(async () => {
      const summary = await owner.get('/api/analytics/summary', { query: 'range=1h' });
      expect(summary.status).toBe(200);
      expect(summary.body.totals).toMatchObject({ created: 2, completed: 1 });
    }, 30_000);
    // Two services starting and the owner's events reaching InfluxDB: more than the default
    // minute on a loaded machine.
  }, 150_000);

  afterAll(async () => {
    await redis?.close();
    await db?.close();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
  });

  const cells = ROUTES.flatMap((route) =>
    CONTEXTS.map(
      (context) =>
        [
          `${route.method} ${route.path}${route.query ? `?${route.query}` : ''}`,
          context,
          expectedStatus(route, context),
          route,
        ] as const,
    ),
  );

  it.each(cells)(
    '%s as %s: %i, nothing of the owner changes',
    async (_n, context, status, route) => {
      const client = await clientFor(context);
      // The other user may change their own data; every other cell must change nothing at all.
      const scope = context === 'other' ? ownerId : undefined;
      const before = await snapshot(scope);
      const ownerSessionBefore = (await owner.get('/api/auth/me')).status;
      const response = await client.request(
        route.method,
        route.path.replace(/:open|:done/, (k) => ids[k]),
        { body: route.body, query: route.query, csrf: context === 'none' ? 'whatever' : undefined },
      );
      expect(response.status).toBe(status);
      expectSecurityHeaders(response);
      if (status >= 400) expectCleanError(response, status);
      expect(await snapshot(scope)).toBe(before);
      expect(ownerSessionBefore).toBe(200);
      // The owner's session survives every cell (a logout with a wrong or missing token too).
      expect((await owner.get('/api/auth/me')).status).toBe(200);

      if (context === 'other' && status === 200) {
        // What the other user reads is theirs only.
        const text = response.text;
        expect(text).not.toContain(ids[':open']);
        expect(text).not.toContain(ids[':done']);
        expect(text).not.toContain(ownerId);
      }
      if (context === 'other' && route.path === '/api/analytics/summary') {
        expect(response.body.totals).toEqual({
          created: 0,
          completed: 0,
          uncompleted: 0,
          deleted: 0,
          updated: 0,
        });
      }
    },
  );

  it.each(
    ROUTES.flatMap((route) =>
      PATH_SPELLINGS.map(
        ([spelling, respell]) =>
          [
            `${route.method} ${route.path}`,
            spelling,
            { ...route, path: respell(route.path) },
          ] as const,
      ),
    ),
  )('%s with %s, as the owner with a valid token: 404, nothing changes', async (_n, _s, route) => {
    const before = await snapshot();
    const response = await owner.request(
      route.method,
      route.path.replace(/:open|:done/, (k) => ids[k]),
      { body: route.body, query: route.query },
    );
    expect(response.status).toBe(404);
    expectSecurityHeaders(response);
    expectCleanError(response, 404);
    expect(await snapshot()).toBe(before);
    expect((await owner.get('/api/auth/me')).status).toBe(200);
  });

  it('the owner still sees exactly their two tasks, unchanged', async () => {
    const list = await owner.get('/api/tasks');
    expect(list.body.tasks.map((t: { title: string; done: boolean }) => [t.title, t.done])).toEqual(
      [
        ['owner open', false],
        ['owner done', true],
      ],
    );
  });
});

describe('gateway: session cookie and headers in production mode', () => {
  const SECRET = 'a-matrix-session-secret-of-at-least-32-characters';
  let stack: IsolatedStack;
  let production: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwmatrixprod');
    production = await startService('gateway', stack, {
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
    });
  });

  afterAll(async () => {
    await production?.stop();
    await stack?.cleanup();
  });

  const https = { 'x-forwarded-proto': 'https' };
  // Behind TLS (HTTPS_ONLY, the production default) the cookie carries the __Host- prefix.
  const sessionCookie = (api: ApiClient) =>
    api.lastSetCookie.find((line) => line.startsWith(`${HOST_SESSION_COOKIE}=`));

  it('every session cookie it sets (register, login, logout) is __Host-, HttpOnly, SameSite=Lax and Secure', async () => {
    const api = new ApiClient(production.url);
    const email = uniqueEmail('prodcookie');
    const password = 'correct horse battery';
    const steps = [
      () =>
        api.request('POST', '/api/auth/register', { body: { email, password }, headers: https }),
      () => api.request('POST', '/api/auth/login', { body: { email, password }, headers: https }),
      () => api.request('POST', '/api/auth/logout', { headers: https }),
    ];
    for (const step of steps) {
      api.lastSetCookie = [];
      const response = await step();
      expect(response.status).toBeLessThan(300);
      const cookie = sessionCookie(api);
      expect(cookie).toBeDefined();
      expect(cookie).toMatch(/;\s*HttpOnly/i);
      expect(cookie).toMatch(/;\s*SameSite=Lax/i);
      expect(cookie).toMatch(/;\s*Secure/i);
      expect(cookie).toMatch(/;\s*Path=\//i);
      expectSecurityHeaders(response);
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });

  it('errors in production carry the same headers and no internals', async () => {
    const api = new ApiClient(production.url);
    const cases: [string, string, number, string | undefined][] = [
      ['GET', '/api/tasks', 401, undefined],
      ['POST', '/api/auth/login', 400, '{"email":'],
      ['GET', '/api/nope', 404, undefined],
      ['GET', '/api/tasks/%E0%A4%A', 400, undefined],
    ];
    for (const [method, path, status, raw] of cases) {
      const response = await api.request(method, path, { raw, headers: https });
      expect(response.status).toBe(status);
      expectSecurityHeaders(response);
      expectCleanError(response, status);
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    }
  });
});
