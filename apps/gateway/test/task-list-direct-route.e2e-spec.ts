import { request as httpRequest } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createClient } from 'redis';
import { ApiClient, registeredClient } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { metricValue } from '../../../test/support/pipeline';
import { startService, type RunningProcess } from '../../../test/support/processes';

interface Answer {
  status: number;
  /** `[name, value]` in the order sent, Date's value blanked. */
  headers: [string, string][];
  body: Buffer;
}

/** One request with node:http, so that the head and the body are seen as sent. */
function send(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    // `path` as given: a URL would drop a bare `?`.
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i];
          pairs.push([name, name.toLowerCase() === 'date' ? '' : res.rawHeaders[i + 1]]);
        }
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The gateway's counter of direct reads, by result. */
async function directReads(gateway: RunningProcess): Promise<Record<string, number>> {
  const count = (result: string) =>
    metricValue(gateway.url, `gateway_direct_reads_total{result="${result}"}`);
  return { served: await count('served'), handed_over: await count('handed_over') };
}

const ENCODINGS: Record<string, Record<string, string>> = {
  none: {},
  gzip: { 'accept-encoding': 'gzip' },
  browser: { 'accept-encoding': 'gzip, deflate, br, zstd' },
};
const QUERIES = ['', '?status=all', '?status=active', '?status=completed'];

/**
 * The direct read route (tasks/task-list.direct-route.ts) answers `GET /api/tasks` cache hits
 * before Express. Every answer it gives must be the Nest route's: `/api/tasks/` (the same Nest
 * route; the direct route takes only the exact URLs) gives the Nest answer to compare with.
 * Both request logging settings are covered: LOG_LEVEL=info (pino-http runs) and warn.
 */
describe.each(['info', 'warn'])('gateway: the direct read route (LOG_LEVEL=%s)', (logLevel) => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let redis: ReturnType<typeof createClient>;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await createIsolatedStack(`gwdirect${logLevel}`);
    gateway = await startService('gateway', stack, { LOG_LEVEL: logLevel });
    redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    api = await registeredClient(gateway.url, `direct-${logLevel}`);
    // Over 1 KB, so that compression applies to the lists that ask for it.
    for (let i = 0; i < 24; i += 1) {
      const created = await api.post('/api/tasks', { title: `task ${i} with a longer title` });
      expect(created.status).toBe(201);
      if (i % 3 === 0) {
        expect((await api.patch(`/api/tasks/${created.body.id}`, { done: true })).status).toBe(200);
      }
    }
  });

  afterAll(async () => {
    await redis?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  const cookie = () => ({ cookie: `taskit.sid=${api.sessionCookie}` });
  const sessionKey = () =>
    `${stack.redisPrefix}sess:${decodeURIComponent(api.sessionCookie!).slice(2).split('.')[0]}`;

  /** The direct answer and the Nest answer of the same request, and what the counter did. */
  async function both(query: string, headers: Record<string, string>, id: string) {
    const before = await directReads(gateway);
    const direct = await send(gateway.url, `/api/tasks${query}`, {
      ...headers,
      'x-request-id': id,
    });
    const middle = await directReads(gateway);
    const nest = await send(gateway.url, `/api/tasks/${query}`, { ...headers, 'x-request-id': id });
    const after = await directReads(gateway);
    const delta = (from: Record<string, number>, to: Record<string, number>) => ({
      served: to.served - from.served,
      handed_over: to.handed_over - from.handed_over,
    });
    // The Nest request never goes through the direct route.
    expect(delta(middle, after)).toEqual({ served: 0, handed_over: 0 });
    return { direct, nest, counted: delta(before, middle) };
  }

  it.each(Object.keys(ENCODINGS))(
    'serves cached lists byte for byte as the Nest route (Accept-Encoding: %s)',
    async (encoding) => {
      for (const query of QUERIES) {
        // Fills the cache for this status (the first read misses).
        await send(gateway.url, `/api/tasks${query}`, cookie());
        const { direct, nest, counted } = await both(
          query,
          { ...cookie(), ...ENCODINGS[encoding] },
          `same-${encoding}-${query.length}`,
        );
        expect(counted).toEqual({ served: 1, handed_over: 0 });
        expect(direct).toEqual(nest);
        expect(direct.status).toBe(200);
        const names = direct.headers.map(([name]) => name.toLowerCase());
        expect(names).toEqual(expect.arrayContaining(['content-security-policy', 'vary']));
        const coding = direct.headers.find(([name]) => name.toLowerCase() === 'content-encoding');
        expect(coding?.[1]).toBe({ none: undefined, gzip: 'gzip', browser: 'br' }[encoding]);
        const decode = { gzip: gunzipSync, br: brotliDecompressSync }[coding?.[1] ?? ''];
        const json = decode ? decode(direct.body) : direct.body;
        const tasks = (JSON.parse(json.toString()) as { tasks: { done: boolean }[] }).tasks;
        expect(tasks.length).toBe(
          query === '?status=active' ? 16 : query === '?status=completed' ? 8 : 24,
        );
      }
    },
  );

  it('writes the same request log line as the Nest route', async () => {
    await send(gateway.url, '/api/tasks', cookie());
    await both('', cookie(), 'log-line');
    const lines = gateway.output
      .split('\n')
      .filter((line) => line.includes('"log-line"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    if (logLevel === 'warn') {
      expect(lines).toEqual([]);
      return;
    }
    expect(lines).toHaveLength(2);
    const comparable = ({ time: _time, responseTime, req, ...rest }: Record<string, unknown>) => {
      expect(typeof responseTime).toBe('number');
      // The URLs differ by the slash that sends the second request to Nest.
      const request = { ...(req as Record<string, unknown>) };
      delete request.url;
      return { ...rest, req: request };
    };
    expect(comparable(lines[0])).toEqual(comparable(lines[1]));
    expect(lines[0]).toMatchObject({ message: 'request completed', req: { url: '/api/tasks' } });
  });

  it.each<[string, () => Record<string, string>]>([
    ['no cookie', () => ({})],
    [
      'a cookie with a forged signature',
      () => ({ cookie: `taskit.sid=${encodeURIComponent('s:abc.forged')}` }),
    ],
    [
      'a signed cookie of a session that does not exist',
      () => {
        const [sid, mac] = decodeURIComponent(api.sessionCookie!).slice(2).split('.');
        return { cookie: `taskit.sid=${encodeURIComponent(`s:${sid}x.${mac}`)}` };
      },
    ],
  ])('hands a request with %s to Nest, which answers 401', async (_case, headers) => {
    const { direct, nest, counted } = await both('', headers(), 'anonymous');
    expect(counted).toEqual({ served: 0, handed_over: 1 });
    expect(direct.status).toBe(401);
    expect(direct).toEqual(nest);
  });

  it('hands a cache miss to Nest, and serves the list once Nest has cached it', async () => {
    expect((await api.post('/api/tasks', { title: 'one more' })).status).toBe(201);
    const { direct, nest, counted } = await both('?status=active', cookie(), 'miss');
    expect(counted).toEqual({ served: 0, handed_over: 1 });
    expect(direct).toEqual(nest);
    expect((await both('?status=active', cookie(), 'hit')).counted).toEqual({
      served: 1,
      handed_over: 0,
    });
  });

  it('hands a session due for renewal to Nest, which renews it and sends the cookie', async () => {
    await send(gateway.url, '/api/tasks', cookie());
    const key = sessionKey();
    const stored = JSON.parse((await redis.get(key))!) as { cookie: { expires: string } };
    const expires = Date.now() + 22 * 3600_000;
    stored.cookie.expires = new Date(expires).toISOString();
    await redis.set(key, JSON.stringify(stored), { expiration: { type: 'PXAT', value: expires } });
    const before = await directReads(gateway);
    const renewed = await send(gateway.url, '/api/tasks', { ...cookie(), 'x-request-id': 'renew' });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.some(([name]) => name.toLowerCase() === 'set-cookie')).toBe(true);
    expect((await directReads(gateway)).handed_over).toBe(before.handed_over + 1);
    // Renewed: the next read is served directly again, without a cookie.
    const { direct, counted } = await both('', cookie(), 'renewed');
    expect(counted).toEqual({ served: 1, handed_over: 0 });
    expect(direct.headers.some(([name]) => name.toLowerCase() === 'set-cookie')).toBe(false);
  });

  it('hands a logged-out session to Nest, which answers 401', async () => {
    const other = await registeredClient(gateway.url, `direct-out-${logLevel}`);
    const stale = { cookie: `taskit.sid=${other.sessionCookie}` };
    await send(gateway.url, '/api/tasks', stale);
    expect((await other.logout()).status).toBeLessThan(300);
    const { direct, nest, counted } = await both('', stale, 'logged-out');
    expect(counted).toEqual({ served: 0, handed_over: 1 });
    expect(direct.status).toBe(401);
    expect(direct).toEqual(nest);
  });

  it.each([
    ['HEAD', '/api/tasks'],
    ['GET', '/api/tasks?status=bogus'],
    ['GET', '/api/tasks?status=active&status=active'],
    ['GET', '/api/tasks?status=active&extra=1'],
    ['GET', '/api/tasks?'],
    ['GET', '/API/TASKS'],
  ])('leaves %s %s to Nest without reading the session', async (method, path) => {
    const before = await directReads(gateway);
    const answer = await send(gateway.url, path, cookie(), method);
    expect(await directReads(gateway)).toEqual(before);
    expect(answer.status).toBeLessThan(500);
  });
});
