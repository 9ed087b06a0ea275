import { createClient } from 'redis';
import {
  ApiClient,
  SESSION_COOKIE,
  registeredClient,
  uniqueEmail,
} from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';

const PASSWORD = 'correct horse battery';

describe('gateway: accounts and sessions (docs/api.md, HTTP API, auth rows)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let redis: ReturnType<typeof createClient>;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwauth');
    gateway = await startService('gateway', stack);
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
  });

  afterAll(async () => {
    await redis?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  const client = () => new ApiClient(gateway.url);
  const sessionKeys = async () => {
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `${stack.redisPrefix}sess:*` })) {
      keys.push(...batch);
    }
    return keys;
  };

  describe('POST /api/auth/register', () => {
    it('201 with the user and a CSRF token, logged in, cookie httpOnly SameSite=Lax, one day', async () => {
      const api = client();
      const email = uniqueEmail('reg');
      const response = await api.register(email, PASSWORD);
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        user: { id: expect.stringMatching(/^[0-9a-f]{24}$/), email },
        csrfToken: expect.any(String),
      });
      const cookie = api.lastSetCookie.find((line) => line.startsWith(`${SESSION_COOKIE}=`));
      expect(cookie).toBeDefined();
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      expect(cookie).not.toMatch(/Secure/i);
      const expires = Date.parse(/Expires=([^;]+)/i.exec(cookie!)![1]);
      expect(expires - Date.now()).toBeGreaterThan(23 * 3600_000);
      expect(expires - Date.now()).toBeLessThanOrEqual(24 * 3600_000 + 5_000);
      const me = await api.get('/api/auth/me');
      expect(me.status).toBe(200);
      expect(me.body.user).toEqual(response.body.user);
      // The session lives in Redis under the stack's prefix.
      expect((await sessionKeys()).length).toBeGreaterThan(0);
    });

    it('stores the email in lower case and refuses it again in any case: 409', async () => {
      const local = uniqueEmail('Case');
      const mixed = local.replace('case', 'CaSe').replace('example.com', 'Example.COM');
      const first = await client().register(mixed, PASSWORD);
      expect(first.status).toBe(201);
      expect(first.body.user.email).toBe(mixed.toLowerCase());
      const again = await client().register(mixed.toUpperCase(), PASSWORD);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({
        statusCode: 409,
        message: expect.any(String),
        error: 'Conflict',
      });
      const login = await client().login(mixed.toLowerCase(), PASSWORD);
      expect(login.status).toBe(200);
    });

    it('handles concurrent registrations of one email: exactly one 201, the others 409', async () => {
      const email = uniqueEmail('race');
      const statuses = await Promise.all(
        Array.from({ length: 4 }, () => client().register(email, PASSWORD)),
      ).then((responses) => responses.map((r) => r.status).sort());
      expect(statuses).toEqual([201, 409, 409, 409]);
    });

    it.each([
      ['a short password', { email: uniqueEmail(), password: 'short' }],
      ['a 129-character password', { email: uniqueEmail(), password: 'x'.repeat(129) }],
      ['no email', { password: PASSWORD }],
      ['a malformed email', { email: 'not-an-email', password: PASSWORD }],
      ['an unknown field', { email: uniqueEmail(), password: PASSWORD, admin: true }],
      ['a numeric password', { email: uniqueEmail(), password: 123456789 }],
    ])('400 for %s, and no account is created', async (_label, body: Record<string, unknown>) => {
      const response = await client().post('/api/auth/register', body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        statusCode: 400,
        message: expect.any(String),
        error: 'Bad Request',
      });
      if (typeof body.email === 'string') {
        const login = await client().login(body.email, String(body.password));
        expect([400, 401]).toContain(login.status);
      }
    });

    it('accepts uncommon passwords of exactly 12 and 128 characters, refuses 11', async () => {
      const uncommon = 'Vq3#tLm9!zRw'.repeat(11);
      expect((await client().register(uniqueEmail(), uncommon.slice(0, 12))).status).toBe(201);
      expect((await client().register(uniqueEmail(), uncommon.slice(0, 128))).status).toBe(201);
      expect((await client().register(uniqueEmail(), uncommon.slice(0, 11))).status).toBe(400);
    });
  });

  describe('POST /api/auth/login', () => {
    it('200 with user and token and a NEW session id (no fixation); the old id is dead', async () => {
      const api = await registeredClient(gateway.url, 'fix');
      const email = (await api.get('/api/auth/me')).body.user.email as string;
      const before = api.sessionCookie!;
      const oldToken = api.csrfToken;
      const response = await api.login(email, PASSWORD);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        user: { id: expect.any(String), email },
        csrfToken: expect.any(String),
      });
      expect(response.body.csrfToken).not.toBe(oldToken);
      expect(api.sessionCookie).toBeDefined();
      expect(api.sessionCookie).not.toBe(before);
      expect((await api.get('/api/auth/me')).status).toBe(200);
      const planted = new ApiClient(gateway.url);
      planted.sessionCookie = before;
      expect((await planted.get('/api/auth/me')).status).toBe(401);
    });

    it('an attacker-planted anonymous session id is replaced at login', async () => {
      const owner = await registeredClient(gateway.url, 'plant');
      const email = (await owner.get('/api/auth/me')).body.user.email as string;
      // An anonymous session (the one logout hands out) that an attacker could plant.
      const attacker = await registeredClient(gateway.url, 'attacker');
      expect((await attacker.logout()).status).toBe(204);
      const planted = attacker.sessionCookie!;
      const victim = new ApiClient(gateway.url);
      victim.sessionCookie = planted;
      expect((await victim.login(email, PASSWORD)).status).toBe(200);
      expect(victim.sessionCookie).not.toBe(planted);
      const reuse = new ApiClient(gateway.url);
      reuse.sessionCookie = planted;
      expect((await reuse.get('/api/auth/me')).status).toBe(401);
    });

    it('401 for a wrong password and for an unknown email, with the same message', async () => {
      const api = await registeredClient(gateway.url, 'wrong');
      const email = (await api.get('/api/auth/me')).body.user.email as string;
      const wrong = await client().login(email, 'not the password');
      const unknown = await client().login(uniqueEmail('nobody'), PASSWORD);
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect(wrong.body).toEqual(unknown.body);
      expect(wrong.body).toEqual({
        statusCode: 401,
        message: 'Wrong email or password',
        error: 'Unauthorized',
      });
      expect(wrong.headers.get('set-cookie')).toBeNull();
    });

    it('400 for a body that is not credentials', async () => {
      expect((await client().post('/api/auth/login', { email: uniqueEmail() })).status).toBe(400);
      expect(
        (await client().post('/api/auth/login', { email: { $ne: null }, password: { $ne: null } }))
          .status,
      ).toBe(400);
    });
  });

  describe('POST /api/auth/logout', () => {
    it('204, destroys the session in Redis; the old cookie is dead; "Signed out" is flashed', async () => {
      const api = await registeredClient(gateway.url, 'out');
      const loggedIn = api.sessionCookie!;
      const sid = decodeURIComponent(loggedIn).slice(2).split('.')[0];
      expect(await redis.exists(`${stack.redisPrefix}sess:${sid}`)).toBe(1);
      const response = await api.logout();
      expect(response.status).toBe(204);
      expect(response.text).toBe('');
      expect(await redis.exists(`${stack.redisPrefix}sess:${sid}`)).toBe(0);
      const old = new ApiClient(gateway.url);
      old.sessionCookie = loggedIn;
      expect((await old.get('/api/auth/me')).status).toBe(401);
      expect((await old.get('/api/tasks')).status).toBe(401);
      // The new anonymous session carries the notice once.
      expect(api.sessionCookie).not.toBe(loggedIn);
      expect((await api.get('/api/auth/me')).status).toBe(401);
      expect((await api.get('/api/auth/notices')).body).toEqual({ notices: ['Signed out'] });
      expect((await api.get('/api/auth/notices')).body).toEqual({ notices: [] });
    });

    it('401 without a session', async () => {
      const response = await client().post('/api/auth/logout', undefined, { csrf: 'anything' });
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('Unauthorized');
    });

    it('403 without or with a wrong X-CSRF-Token, and the session survives', async () => {
      const api = await registeredClient(gateway.url, 'csrf');
      expect((await api.post('/api/auth/logout', undefined, { csrf: false })).status).toBe(403);
      const wrong = await api.post('/api/auth/logout', undefined, { csrf: 'x'.repeat(43) });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual({
        statusCode: 403,
        message: 'Missing or invalid X-CSRF-Token header',
        error: 'Forbidden',
      });
      expect((await api.get('/api/auth/me')).status).toBe(200);
    });

    it("another session's CSRF token does not work", async () => {
      const alice = await registeredClient(gateway.url, 'alice');
      const bob = await registeredClient(gateway.url, 'bob');
      expect(
        (await alice.post('/api/auth/logout', undefined, { csrf: bob.csrfToken })).status,
      ).toBe(403);
    });
  });

  describe('GET /api/auth/me', () => {
    it('200 with user, the same CSRF token, and one-shot notices', async () => {
      const api = await registeredClient(gateway.url, 'me');
      const token = api.csrfToken;
      const first = await api.get('/api/auth/me');
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        user: { id: expect.any(String), email: expect.any(String) },
        csrfToken: token,
        notices: ['Welcome to Taskit'],
      });
      expect(first.headers.get('cache-control')).toBe('no-store');
      const created = await api.post('/api/tasks', { title: 'flash me' });
      expect(created.status).toBe(201);
      // One-shot, and a task change is its own feedback: no notice for it.
      expect((await api.get('/api/auth/me')).body.notices).toEqual([]);
    });

    it('"Welcome back" after a login', async () => {
      const api = await registeredClient(gateway.url, 'back');
      const email = (await api.get('/api/auth/me')).body.user.email as string;
      const again = new ApiClient(gateway.url);
      await again.login(email, PASSWORD);
      expect((await again.get('/api/auth/me')).body.notices).toEqual(['Welcome back']);
    });

    it('401 without a session, with a forged cookie and with a tampered signature', async () => {
      expect((await client().get('/api/auth/me')).status).toBe(401);
      const forged = client();
      forged.sessionCookie = 's%3Aforged-session-id.c2lnbmF0dXJl';
      expect((await forged.get('/api/auth/me')).status).toBe(401);
      const api = await registeredClient(gateway.url, 'tamper');
      const tampered = client();
      tampered.sessionCookie = `${api.sessionCookie!.slice(0, -3)}AAA`;
      const response = await tampered.get('/api/auth/me');
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        statusCode: 401,
        message: 'Not logged in',
        error: 'Unauthorized',
      });
    });
  });

  describe('headers, limits and documentation', () => {
    it('sends helmet headers with a self-only CSP and no X-Powered-By', async () => {
      const response = await client().get('/api/auth/me');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("object-src 'none'");
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    });

    it('compresses large responses', async () => {
      const api = await registeredClient(gateway.url, 'gzip');
      for (let i = 0; i < 20; i += 1) {
        await api.post('/api/tasks', { title: `a long enough title to compress ${i} `.repeat(5) });
      }
      const response = await fetch(`${gateway.url}/api/tasks`, {
        headers: { cookie: `${SESSION_COOKIE}=${api.sessionCookie}`, 'accept-encoding': 'gzip' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBe('gzip');
      const body = (await response.json()) as { tasks: unknown[] };
      expect(body.tasks).toHaveLength(20);
    });

    it('answers unknown /api routes with a JSON 404', async () => {
      const response = await client().get('/api/nope');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'Cannot GET /api/nope',
        error: 'Not Found',
      });
      expect((await client().post('/api/tasks/x/y', {})).status).toBe(404);
    });

    it('serves the OpenAPI document at /api/docs', async () => {
      const ui = await fetch(`${gateway.url}/api/docs`);
      expect(ui.status).toBe(200);
      expect(ui.headers.get('content-type')).toContain('text/html');
      const document = (await (await fetch(`${gateway.url}/api/docs/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining([
          '/api/auth/register',
          '/api/auth/login',
          '/api/auth/logout',
          '/api/auth/me',
          '/api/tasks',
          '/api/tasks/{id}',
          '/api/tasks/toggle-all',
          '/api/tasks/clear-completed',
        ]),
      );
    });

    it('keeps probes and metrics free of sessions', async () => {
      const response = await fetch(`${gateway.url}/health/live`);
      expect(response.headers.get('set-cookie')).toBeNull();
    });
  });
});
