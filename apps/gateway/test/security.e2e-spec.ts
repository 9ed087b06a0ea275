import { randomBytes, randomUUID } from 'node:crypto';
import {
  ApiClient,
  registeredClient,
  uniqueEmail,
  TEST_PASSWORD,
  type RequestOptions,
} from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { PATH_SPELLINGS } from '../../../test/support/path-spellings';
import { tag, tracedRequest, traceWhen, tracingSettings } from '../../../test/support/jaeger';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  type RunningProcess,
} from '../../../test/support/processes';

/**
 * The security review's findings (docs/security.md, threat model), each held by a test that
 * failed before its fix, on gateways started from the build as main.ts starts them.
 */

/** A browser behind the TLS load balancer: every request arrives with X-Forwarded-Proto https. */
class TlsClient extends ApiClient {
  constructor(
    baseUrl: string,
    private readonly clientAddress = `198.51.100.${1 + Math.floor(Math.random() * 250)}`,
  ) {
    super(baseUrl);
  }

  override request<T>(method: string, path: string, options: RequestOptions = {}) {
    return super.request<T>(method, path, {
      ...options,
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-for': this.clientAddress,
        ...options.headers,
      },
    });
  }
}

const randomSecret = () => randomBytes(32).toString('base64url');
/** Starting gateways from the build can take long on a busy machine. */
const START_TIMEOUT_MS = 180_000;

/** startService with a readiness deadline that fits a loaded machine. */
async function startGateway(
  stack: IsolatedStack,
  overrides: Record<string, string> = {},
): Promise<RunningProcess> {
  const gateway = spawnService('gateway', serviceEnvironment(stack, await freePort(), overrides));
  try {
    await gateway.waitUntilReady('/health/ready', START_TIMEOUT_MS - 30_000);
  } catch (error) {
    await gateway.stop('SIGKILL');
    throw error;
  }
  return gateway;
}

/** The session id inside a signed cookie value (`s:<id>.<signature>`, URI-encoded). */
function sessionIdOf(cookieValue: string): string {
  const signed = decodeURIComponent(cookieValue).slice(2);
  return signed.slice(0, signed.lastIndexOf('.'));
}

describe('security: a production gateway (NODE_ENV=production, METRICS_PORT set)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let metricsPort: number;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwsecurity');
    metricsPort = await freePort();
    gateway = await startGateway(stack, {
      NODE_ENV: 'production',
      SESSION_SECRET: randomSecret(),
      METRICS_PORT: String(metricsPort),
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  const registered = async (label: string) => {
    const api = new TlsClient(gateway.url);
    const response = await api.register(uniqueEmail(label));
    expect(response.status).toBe(201);
    return api;
  };

  const PATH_VARIANTS = (path: string) => PATH_SPELLINGS.map(([, respell]) => respell(path));

  it.each([
    ['POST', '/api/tasks', { title: 'forged' }],
    ['POST', '/api/tasks/clear-completed', undefined],
    ['POST', '/api/tasks/toggle-all', { done: true }],
    ['POST', '/api/auth/logout', undefined],
  ])(
    '%s %s under another casing or with extra slashes and no CSRF token changes nothing',
    async (method, path, body) => {
      const api = await registered('casing');
      expect((await api.post('/api/tasks', { title: 'mine' })).status).toBe(201);
      for (const variant of PATH_VARIANTS(path)) {
        const response = await api.request(method, variant, { body, csrf: false });
        expect([403, 404]).toContain(response.status);
      }
      const list = await api.get<{ tasks: { title: string; done: boolean }[] }>('/api/tasks');
      expect(list.status).toBe(200);
      expect(list.body.tasks.map((t) => [t.title, t.done])).toEqual([['mine', false]]);
    },
  );

  it.each([
    [
      'application/x-www-form-urlencoded',
      (email: string) =>
        `email=${encodeURIComponent(email)}&password=${encodeURIComponent(TEST_PASSWORD)}`,
    ],
    ['text/plain', (email: string) => JSON.stringify({ email, password: TEST_PASSWORD })],
    [
      'multipart/form-data; boundary=x',
      (email: string) =>
        `--x\r\nContent-Disposition: form-data; name="email"\r\n\r\n${email}\r\n--x--\r\n`,
    ],
  ])('a %s login is 415 on every casing of the path, and sets no cookie', async (type, form) => {
    const email = (await (await registered('formlogin')).get('/api/auth/me')).body.user.email;
    for (const path of ['/api/auth/login', ...PATH_VARIANTS('/api/auth/login')]) {
      const api = new TlsClient(gateway.url);
      const response = await api.request('POST', path, {
        raw: form(email as string),
        headers: { 'content-type': type },
      });
      expect(response.status).toBe(415);
      expect(response.headers.get('set-cookie')).toBeNull();
    }
  });

  it('refuses a cross-site login or sign-up (Sec-Fetch-Site, Origin) and accepts a same-origin one', async () => {
    const email = uniqueEmail('crosssite');
    const crossSite: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://attacker.example' },
    ];
    for (const headers of crossSite) {
      const api = new TlsClient(gateway.url);
      const signUp = await api.post(
        '/api/auth/register',
        { email, password: TEST_PASSWORD },
        { headers },
      );
      expect(signUp.status).toBe(403);
      const login = await api.post(
        '/api/auth/login',
        { email, password: TEST_PASSWORD },
        { headers },
      );
      expect(login.status).toBe(403);
      expect(login.headers.get('set-cookie')).toBeNull();
    }
    const host = new URL(gateway.url).host;
    const sameOrigin = new TlsClient(gateway.url);
    const created = await sameOrigin.post(
      '/api/auth/register',
      { email, password: TEST_PASSWORD },
      { headers: { 'sec-fetch-site': 'same-origin', origin: `http://${host}` } },
    );
    expect(created.status).toBe(201);
  });

  it('evaluates at most 5 of 40 parallel wrong passwords for one account (the rest 429), and the owner elsewhere still logs in', async () => {
    const email = (await (await registered('burst')).get('/api/auth/me')).body.user.email as string;
    const attacker = '203.0.113.7';
    const responses = await Promise.all(
      Array.from({ length: 40 }, () =>
        new TlsClient(gateway.url, attacker).login(email, 'a wrong password guess'),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    for (const refused of responses.filter((r) => r.status === 429)) {
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The right password from the attacker's address is still refused: the pair is locked.
    expect((await new TlsClient(gateway.url, attacker).login(email, TEST_PASSWORD)).status).toBe(
      429,
    );
    // The owner, from another address, is not locked out by someone who knows their address.
    expect(
      (await new TlsClient(gateway.url, '192.0.2.10').login(email, TEST_PASSWORD)).status,
    ).toBe(200);
  });

  it('stops 60 sign-ups from one client with 429 and Retry-After', async () => {
    const client = '203.0.113.60';
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 60; i += 1) {
      const response = await new TlsClient(gateway.url, client).register(uniqueEmail('scripted'));
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    expect(statuses.filter((s) => s !== 201 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(30);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // Another client can still sign up.
    expect(
      (await new TlsClient(gateway.url, '192.0.2.61').register(uniqueEmail('other'))).status,
    ).toBe(201);
  });

  it('answers 404 for /metrics on its public port and serves it on METRICS_PORT', async () => {
    for (const path of ['/metrics', '/METRICS', '/metrics/', '//metrics', '/metrics?x=1']) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(404);
    }
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('http_request_duration_seconds');
  });

  it('serves no API docs in production', async () => {
    for (const path of ['/api/docs', '/api/docs/', '/api/docs/openapi.json']) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(404);
    }
  });

  it('names the cookie with the __Host- prefix, Secure and Path=/', async () => {
    const api = await registered('hostcookie');
    const cookie = api.lastSetCookie.find((line) => line.startsWith('__Host-taskit.sid='));
    expect(cookie).toMatch(/;\s*Secure/i);
    expect(cookie).toMatch(/;\s*Path=\/(;|$)/i);
    expect(cookie).not.toMatch(/;\s*Domain=/i);
    expect((await api.get('/api/auth/me')).status).toBe(200);
  });
});

describe('security: SESSION_SECRET', () => {
  let stack: IsolatedStack;
  const OLD = randomSecret();
  const NEW = randomSecret();
  let oldOnly: RunningProcess;
  let rotated: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwsecret');
    // One after the other: two gateways starting at once on a busy machine may miss the
    // harness's readiness deadline.
    oldOnly = await startGateway(stack, {
      SESSION_SECRET: OLD,
      SESSION_ABSOLUTE_LIFETIME_SECONDS: '3',
    });
    rotated = await startGateway(stack, { SESSION_SECRET: `${NEW},${OLD}` });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all([oldOnly?.stop(), rotated?.stop()]);
    await stack?.cleanup();
  });

  it.each([
    'change-me-session-secret-at-least-32-chars',
    'dev-session-secret-not-for-production-use',
    'taskit-development-session-secret-not-for-production',
    'a'.repeat(48),
    '0123456789012345678901234567890123456789',
  ])('refuses the known or guessable value %j in production', async (secret) => {
    const refused = spawnService(
      'gateway',
      serviceEnvironment(stack, await freePort(), {
        NODE_ENV: 'production',
        SESSION_SECRET: secret,
      }),
    );
    expect(await refused.exited).not.toBe(0);
    expect(refused.output).toContain('SESSION_SECRET');
  });

  it('rotates: a session signed with the old secret still works where the new one signs', async () => {
    const api = await registeredClient(oldOnly.url, 'rotation');
    const onRotated = api.on(rotated.url);
    expect((await onRotated.get('/api/auth/me')).status).toBe(200);
    // New sessions are signed with the newest secret, which the old-only gateway cannot read.
    const fresh = await registeredClient(rotated.url, 'rotation-new');
    expect((await fresh.on(oldOnly.url).get('/api/auth/me')).status).toBe(401);
  });

  it('ends a session at its absolute lifetime even while it is in use', async () => {
    const started = Date.now();
    const api = await registeredClient(oldOnly.url, 'absolute');
    const sleepUntil = (ms: number) =>
      new Promise((resolve) => setTimeout(resolve, Math.max(0, started + ms - Date.now())));
    await sleepUntil(1_500);
    expect((await api.get('/api/auth/me')).status).toBe(200);
    await sleepUntil(4_000);
    expect((await api.get('/api/auth/me')).status).toBe(401);
  });
});

describe('security: passwords and sessions of an account (ASVS level 2)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwaccount');
    gateway = await startGateway(stack);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  it.each([
    ['shorter than 12 characters', 'Xq7#vL2!pR9'],
    ['common', 'password1234'],
    ['a keyboard walk', 'qwertyuiop123'],
    ['the email address itself', 'EMAIL'],
  ])('refuses a password that is %s (400)', async (_case, password) => {
    const email = uniqueEmail('weak');
    const api = new ApiClient(gateway.url);
    const response = await api.register(email, password === 'EMAIL' ? email : password);
    expect(response.status).toBe(400);
    expect(response.body.message).toEqual(expect.stringContaining('password'));
  });

  it('changes the password with the old one, ending every other session (204)', async () => {
    const first = await registeredClient(gateway.url, 'change');
    const email = (await first.get('/api/auth/me')).body.user.email as string;
    const second = new ApiClient(gateway.url);
    expect((await second.login(email)).status).toBe(200);
    const newPassword = 'a fresh and long passphrase 42';

    const wrong = await first.post('/api/auth/password', {
      currentPassword: 'not the password at all',
      newPassword,
    });
    expect(wrong.status).toBe(401);
    const weak = await first.post('/api/auth/password', {
      currentPassword: TEST_PASSWORD,
      newPassword: 'password1234',
    });
    expect(weak.status).toBe(400);
    const noToken = await first.post(
      '/api/auth/password',
      { currentPassword: TEST_PASSWORD, newPassword },
      { csrf: false },
    );
    expect(noToken.status).toBe(403);

    const changed = await first.post('/api/auth/password', {
      currentPassword: TEST_PASSWORD,
      newPassword,
    });
    expect(changed.status).toBe(204);
    expect((await first.get('/api/auth/me')).status).toBe(200);
    expect((await second.get('/api/auth/me')).status).toBe(401);
    expect((await new ApiClient(gateway.url).login(email)).status).toBe(401);
    expect((await new ApiClient(gateway.url).login(email, newPassword)).status).toBe(200);
  });

  it('signs out every other session of the user (204), and no one else', async () => {
    const here = await registeredClient(gateway.url, 'revoke');
    const email = (await here.get('/api/auth/me')).body.user.email as string;
    const elsewhere = [new ApiClient(gateway.url), new ApiClient(gateway.url)];
    for (const api of elsewhere) expect((await api.login(email)).status).toBe(200);
    const bystander = await registeredClient(gateway.url, 'bystander');

    expect(
      (await here.post('/api/auth/sessions/revoke-others', undefined, { csrf: false })).status,
    ).toBe(403);
    expect((await here.post('/api/auth/sessions/revoke-others')).status).toBe(204);
    expect((await here.get('/api/auth/me')).status).toBe(200);
    for (const api of elsewhere) expect((await api.get('/api/auth/me')).status).toBe(401);
    expect((await bystander.get('/api/auth/me')).status).toBe(200);
    expect((await new ApiClient(gateway.url).post('/api/auth/sessions/revoke-others')).status).toBe(
      401,
    );
  });
});

describe('security: tracing keeps session ids and client trace decisions out', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwsectrace');
    gateway = await startGateway(stack, { ...tracingSettings(), LOG_LEVEL: 'info' });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  it("a span's Redis statement carries no session id", async () => {
    const api = await registeredClient(gateway.url, 'redact');
    const sid = sessionIdOf(api.sessionCookie!);
    const traceId = await tracedRequest(gateway, (headers) => api.get('/api/auth/me', { headers }));
    const isRedis = (span: { tags: { key: string; value: unknown }[] }) =>
      (tag(span as never, 'db.system.name') ?? tag(span as never, 'db.system')) === 'redis';
    const trace = await traceWhen(traceId, (t) =>
      expect(t.spans.filter(isRedis).length).toBeGreaterThan(0),
    );
    const redis = trace.spans.filter(isRedis);
    expect(JSON.stringify(redis)).not.toContain(sid);
    const statements = redis.map((s) => tag(s, 'db.query.text') ?? tag(s, 'db.statement'));
    expect(statements.some((s) => typeof s === 'string' && s.length > 0)).toBe(true);
  });

  it("a client's traceparent neither names the trace nor decides its sampling", async () => {
    const api = await registeredClient(gateway.url, 'traceparent');
    const clientTraceId = randomUUID().replaceAll('-', '');
    const notSampled = `00-${clientTraceId}-${'1'.repeat(16)}-00`;
    const traceId = await tracedRequest(gateway, (headers) =>
      api.get('/api/auth/me', { headers: { ...headers, traceparent: notSampled } }),
    );
    expect(traceId).not.toBe(clientTraceId);
    // Sampled by the gateway's own decision (always on here), although the client said no.
    const trace = await traceWhen(traceId, (t) => expect(t.spans.length).toBeGreaterThan(0));
    expect(trace.traceID).toBe(traceId);
  });
});
