import {
  ApiClient,
  uniqueEmail,
  type ApiResponse,
  type RequestOptions,
} from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';

const PER_USER = 8;
const PER_CLIENT = 12;
const BULK_PER_USER = 2;
const WINDOW_SECONDS = 60;
const PER_USER_PER_SECOND = 3;
/** Far above what the window's tests send in a second: the per-second budgets have their own pod. */
const UNMET = '1000000';
/** How long a summary waits for the analytics service, which this suite does not start. */
const SUMMARY_WAIT_MS = 3_000;

let addresses = 0;
/** A client address of its own (TEST-NET-2), sent as X-Forwarded-For through a trusted proxy. */
function nextAddress(): string {
  addresses += 1;
  return `198.51.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

/** A browser behind one address; without one, every request comes from a new address. */
class ClientAt extends ApiClient {
  constructor(
    baseUrl: string,
    private readonly address?: string,
  ) {
    super(baseUrl);
  }

  override request<T>(method: string, path: string, options: RequestOptions = {}) {
    const address = this.address ?? nextAddress();
    return super.request<T>(method, path, {
      ...options,
      headers: { 'x-forwarded-for': address, ...options.headers },
    });
  }

  /** The same browser (cookies and token) through another gateway. */
  through(baseUrl: string): ClientAt {
    const other = new ClientAt(baseUrl, this.address);
    this.cookies.forEach((value, name) => other.cookies.set(name, value));
    other.csrfToken = this.csrfToken;
    return other;
  }
}

function expectTooManyRequests(response: ApiResponse): void {
  expect(response.status).toBe(429);
  expect(response.body).toEqual({
    statusCode: 429,
    message: expect.stringMatching(/^Too many requests; try again in \d+ s$/),
    error: 'Too Many Requests',
  });
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
}

/**
 * API rate limits (docs/limits.md) on two gateway processes over one Redis, as two pods: the
 * budgets are shared, so alternating pods gains nothing.
 */
describe('gateway: API rate limits per user, per client and for bulk operations', () => {
  let stack: IsolatedStack;
  let podA: RunningProcess;
  let podB: RunningProcess;
  let burstPod: RunningProcess;
  /** One request in flight per user, every budget unmet, no analytics: a summary waits. */
  let inFlightPod: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwrate');
    const limits = {
      TRUST_PROXY: '1',
      API_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      API_RATE_LIMIT_PER_USER: String(PER_USER),
      API_RATE_LIMIT_PER_CLIENT: String(PER_CLIENT),
      API_RATE_LIMIT_BULK_PER_USER: String(BULK_PER_USER),
      API_RATE_LIMIT_PER_USER_PER_SECOND: UNMET,
      API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: UNMET,
      // The bursts below test the per-second budgets; the in-flight bound has its own pod.
      API_IN_FLIGHT_PER_USER: UNMET,
    };
    [podA, podB, burstPod, inFlightPod] = await Promise.all([
      startService('gateway', stack, limits),
      startService('gateway', stack, limits),
      startService('gateway', stack, {
        ...limits,
        API_RATE_LIMIT_PER_USER: UNMET,
        API_RATE_LIMIT_PER_CLIENT: UNMET,
        API_RATE_LIMIT_BULK_PER_USER: UNMET,
        API_RATE_LIMIT_PER_USER_PER_SECOND: String(PER_USER_PER_SECOND),
        API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: '1',
      }),
      startService('gateway', stack, {
        TRUST_PROXY: '1',
        API_RATE_LIMIT_PER_USER: UNMET,
        API_RATE_LIMIT_PER_CLIENT: UNMET,
        API_RATE_LIMIT_BULK_PER_USER: UNMET,
        API_RATE_LIMIT_PER_USER_PER_SECOND: UNMET,
        API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: UNMET,
        API_IN_FLIGHT_PER_USER: '1',
        ANALYTICS_RPC_TIMEOUT_MS: String(SUMMARY_WAIT_MS),
      }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([podA?.stop(), podB?.stop(), burstPod?.stop(), inFlightPod?.stop()]);
    await stack?.cleanup();
  });

  /** A new account whose requests each come from a new address (only its user budget binds). */
  async function roamingUser(): Promise<[ClientAt, ClientAt]> {
    const onA = new ClientAt(podA.url);
    expect((await onA.register(uniqueEmail('rate'))).status).toBe(201);
    return [onA, onA.through(podB.url)];
  }

  it('refuses a user beyond the per-user budget on every pod, from any address, with 429 and Retry-After', async () => {
    const [onA, onB] = await roamingUser();
    for (let i = 0; i < PER_USER; i++) {
      expect((await (i % 2 ? onB : onA).get('/api/auth/me')).status).toBe(200);
    }
    expectTooManyRequests(await onA.get('/api/auth/me'));
    expectTooManyRequests(await onB.post('/api/tasks', { title: 'one more' }));

    const [other] = await roamingUser();
    expect((await other.get('/api/auth/me')).status).toBe(200);
  });

  it('refuses a client address beyond the per-client budget on every pod, logged in or not', async () => {
    const address = nextAddress();
    const onA = new ClientAt(podA.url, address);
    const onB = onA.through(podB.url);
    for (let i = 0; i < PER_CLIENT; i++) {
      expect((await (i % 2 ? onB : onA).get('/api/auth/me')).status).toBe(401);
    }
    expectTooManyRequests(await onA.get('/api/auth/me'));
    expectTooManyRequests(await onB.register(uniqueEmail('rate')));
    // Under another casing the route is either not found or held to the same limit.
    expect([404, 429]).toContain((await onA.get('/API/Auth/me')).status);

    expect((await new ClientAt(podB.url, nextAddress()).get('/api/auth/me')).status).toBe(401);
    // Health, metrics and the pages are not API routes.
    for (const path of ['/health/live', '/metrics', '/login']) {
      expect((await onA.get(path)).status).toBe(200);
    }
  });

  it('gives bulk operations a tighter budget of their own, shared by toggle-all and clear-completed', async () => {
    const [onA, onB] = await roamingUser();
    expect((await onA.post('/api/tasks', { title: 'bulk' })).status).toBe(201);
    expect((await onA.post('/api/tasks/toggle-all', { done: true })).status).toBe(200);
    expect((await onB.post('/api/tasks/clear-completed')).status).toBe(200);
    expectTooManyRequests(await onB.post('/api/tasks/toggle-all', { done: false }));
    expectTooManyRequests(await onA.post('/api/tasks/clear-completed'));
    // The user's other requests are still within their own budget.
    expect((await onB.get('/api/tasks')).status).toBe(200);
  });

  it('spreads the per-user budgets over the window: a burst beyond the per-second budget is refused for that second', async () => {
    const user = new ClientAt(burstPod.url);
    expect((await user.register(uniqueEmail('burst'))).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    // Ten at once: a fixed one-second window lets at most two windows' budgets through.
    const answers = await Promise.all(Array.from({ length: 10 }, () => user.get('/api/tasks')));
    const passed = answers.filter((answer) => answer.status === 200).length;
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThanOrEqual(2 * PER_USER_PER_SECOND);
    const refused = answers.filter((answer) => answer.status !== 200);
    refused.forEach(expectTooManyRequests);
    expect(refused.map((answer) => answer.headers.get('retry-after'))).toEqual(
      refused.map(() => '1'),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await user.get('/api/tasks')).status).toBe(200);

    // Bulk operations: one a second. Three at once in a fresh second are within the user's
    // per-second budget, so only the bulk one refuses.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const bulk = await Promise.all(
      Array.from({ length: PER_USER_PER_SECOND }, () =>
        user.post('/api/tasks/toggle-all', { done: true }),
      ),
    );
    const bulkPassed = bulk.filter((answer) => answer.status === 200).length;
    expect(bulkPassed).toBeGreaterThanOrEqual(1);
    expect(bulkPassed).toBeLessThanOrEqual(2);
    bulk.filter((answer) => answer.status !== 200).forEach(expectTooManyRequests);
  });

  it('works on at most API_IN_FLIGHT_PER_USER requests of one user at once, per pod', async () => {
    const user = new ClientAt(inFlightPod.url);
    const other = new ClientAt(inFlightPod.url);
    expect((await user.register(uniqueEmail('inflight'))).status).toBe(201);
    expect((await other.register(uniqueEmail('inflight'))).status).toBe(201);
    let waiting = true;
    const summary = user.get('/api/analytics/summary?range=1h').finally(() => (waiting = false));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waiting).toBe(true);
    const refused = await user.get('/api/tasks');
    expectTooManyRequests(refused);
    expect(refused.headers.get('retry-after')).toBe('1');
    // Another user is not held by this one's requests.
    expect((await other.get('/api/tasks')).status).toBe(200);
    expect(waiting).toBe(true);
    expect((await summary).status).toBe(503);
    // The place is free again once the answer is sent.
    expect((await user.get('/api/tasks')).status).toBe(200);
    const metrics = await new ApiClient(inFlightPod.url).get('/metrics');
    expect(metrics.text).toMatch(/^taskit_gateway_rate_limited_total\{limit="in-flight"\} 1$/m);
  });

  it('counts refusals by limit in /metrics', async () => {
    const metrics = await new ApiClient(podA.url).get('/metrics');
    const count = (limit: string) =>
      Number(
        new RegExp(`^taskit_gateway_rate_limited_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(
          metrics.text,
        )?.[1] ?? 0,
      );
    expect(count('user')).toBeGreaterThanOrEqual(1);
    expect(count('client')).toBeGreaterThanOrEqual(1);
    expect(count('bulk')).toBeGreaterThanOrEqual(1);
  });
});
