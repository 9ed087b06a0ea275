import fc from 'fast-check';
import { mongo } from 'mongoose';
import { ApiClient, registeredClient, uniqueEmail } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { PATH_SPELLINGS } from '../../../test/support/path-spellings';
import { startService, type RunningProcess } from '../../../test/support/processes';

/**
 * Property-based fuzzing of every API route (docs/api.md, HTTP API) with random and adversarial
 * input: operator objects, prototype keys, deep nesting, huge and odd-Unicode strings, wrong
 * types, malformed JSON, hostile query strings and ids. For every generated request:
 * - never a 5xx, always the error shape without internals for a 4xx;
 * - a rejected request changes nothing (MongoDB compared before and after);
 * - the process stays up and /health/live answers.
 * hostile-input.e2e-spec.ts holds the hand-written rows; this file explores around them.
 */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 100);
const PASSWORD = 'correct horse battery';

// ---- arbitraries -------------------------------------------------------------------------

/** encodeURIComponent, but a lone surrogate becomes its raw (invalid UTF-8) bytes. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
}

/** A JSON tree serialised by hand, so that keys like "__proto__" survive as own keys. */
type Tree = { t: 'raw'; v: string } | { t: 'obj'; v: [string, Tree][] } | { t: 'arr'; v: Tree[] };

function serialise(tree: Tree): string {
  if (tree.t === 'raw') return tree.v;
  if (tree.t === 'arr') return `[${tree.v.map(serialise).join(',')}]`;
  return `{${tree.v.map(([k, v]) => `${JSON.stringify(k)}:${serialise(v)}`).join(',')}}`;
}

const FIELD_NAMES = ['title', 'done', 'email', 'password', 'status', 'range', 'id', 'userId'];
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '$gt',
  '$ne',
  '$where',
  '$set',
  '$regex',
  'outbox',
  'deletedAt',
  'a.b',
  'title.$',
  '',
  '\u0000',
  'toString',
  'hasOwnProperty',
];

const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '\u0000',
    '\uD800',
    '\uDFFF',
    '\u202E\u0041',
    '\uFEFF',
    '𝕿𝖆𝖘𝖐',
    'e\u0301\u0301\u0301',
    '<script>alert(1)</script>',
    '"; DROP TABLE tasks; --',
    '{"$gt":""}',
    '../../etc/passwd',
    '   ',
    'a'.repeat(500),
    'a'.repeat(501),
    'a@b',
    'x@example.com',
  ),
);
const hugeString = fc.constantFrom(10_000, 200_000, 1_100_000).map((n) => 'z'.repeat(n));

const scalar: fc.Arbitrary<Tree> = fc
  .oneof(
    { weight: 5, arbitrary: oddString },
    { weight: 2, arbitrary: fc.boolean() },
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.constantFrom(1e308, -0, 2 ** 53 + 1) },
  )
  .map((value): Tree => ({
    t: 'raw',
    // JSON has no NaN or Infinity: fc.double can make them, JSON.stringify turns them to null.
    v: JSON.stringify(value),
  }));

const key = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELD_NAMES) },
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 1, arbitrary: oddString },
);

const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(key, tie('tree')), { maxLength: 5 })
        .map((v): Tree => ({ t: 'obj', v })),
    },
    {
      weight: 1,
      arbitrary: fc.array(tie('tree'), { maxLength: 4 }).map((v): Tree => ({ t: 'arr', v })),
    },
  ),
}));

/** An object whose fields are the route's own names with hostile values, or hostile keys. */
const objectBody = fc
  .array(fc.tuple(key, tree), { minLength: 0, maxLength: 5 })
  .map((v) => serialise({ t: 'obj', v }));

const deepBody = fc
  .tuple(fc.integer({ min: 50, max: 5_000 }), fc.constantFrom('{"a":', '['))
  .map(([depth, open]) => {
    const close = open === '[' ? ']' : '}';
    return `${open.repeat(depth)}1${close.repeat(depth)}`;
  });

const malformed = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '{',
    '{"title":',
    '{"title":"x"',
    '{"a":1}}',
    "{'title':'x'}",
    'undefined',
    'NaN',
  ),
);

/** A raw request body (undefined: none). */
const body: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 8, arbitrary: objectBody },
  { weight: 2, arbitrary: tree.map(serialise) },
  { weight: 1, arbitrary: deepBody },
  { weight: 1, arbitrary: hugeString.map((s) => JSON.stringify({ title: s })) },
  { weight: 2, arbitrary: malformed },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const queryKey = fc.oneof(
  fc.constantFrom('status', 'range', 'status[$ne]', '__proto__[x]', 'constructor', 'a.b', '$where'),
  oddString,
);
const query = fc
  .array(fc.tuple(queryKey, fc.oneof(oddString, fc.constantFrom('all', 'active', '1h', '24h'))), {
    maxLength: 4,
  })
  .map((pairs) => pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&'));

// ---- routes ------------------------------------------------------------------------------

interface Route {
  method: string;
  path: string;
  /** Does the route take a task id? */
  id?: boolean;
  /** Does the route read a query string? */
  query?: boolean;
}

const ROUTES: Route[] = [
  { method: 'POST', path: '/api/auth/register' },
  { method: 'POST', path: '/api/auth/login' },
  { method: 'POST', path: '/api/auth/logout' },
  { method: 'GET', path: '/api/auth/me', query: true },
  { method: 'GET', path: '/api/auth/notices', query: true },
  { method: 'GET', path: '/api/tasks', query: true },
  { method: 'POST', path: '/api/tasks' },
  { method: 'GET', path: '/api/tasks/:id', id: true, query: true },
  { method: 'PATCH', path: '/api/tasks/:id', id: true },
  { method: 'DELETE', path: '/api/tasks/:id', id: true },
  { method: 'POST', path: '/api/tasks/toggle-all' },
  { method: 'POST', path: '/api/tasks/clear-completed' },
  { method: 'GET', path: '/api/analytics/summary', query: true },
];

const INTERNALS =
  /\n\s+at |node_modules|\/dist\/|\.ts:\d+|Mongo[A-Z]|E11000|ECONN|ReferenceError|TypeError|SyntaxError: Unexpected/;

/** Whether a request path decodes as percent-encoding (Express answers 400 when it does not). */
function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

describe('gateway: property-based fuzzing of every API route', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let db: mongo.MongoClient;
  let api: ApiClient;
  let email: string;
  const ids: Record<'own' | 'done' | 'foreign', string> = { own: '', done: '', foreign: '' };

  /** Users and live tasks without the outbox fields (a relay may drain those at any time). */
  async function snapshot(): Promise<string> {
    const tasks = await db
      .db()
      .collection('tasks')
      .find({ deletedAt: null }, { projection: { outbox: 0, outboxPending: 0, outboxSince: 0 } })
      .sort({ _id: 1 })
      .toArray();
    const users = await db.db().collection('users').find().sort({ _id: 1 }).toArray();
    return JSON.stringify({ tasks, users });
  }

  async function ensureLoggedIn(): Promise<void> {
    if ((await api.get('/api/auth/me')).status === 200) return;
    const login = await api.login(email, PASSWORD);
    expect(login.status).toBe(200);
  }

  /** Keeps one open and one done task of the fuzzing user and one of another user. */
  async function ensureTasks(): Promise<void> {
    const live = (await api.get('/api/tasks')).body.tasks as { id: string; done: boolean }[];
    const has = (id: string, done: boolean) => live.some((t) => t.id === id && t.done === done);
    if (!has(ids.own, false)) ids.own = (await api.post('/api/tasks', { title: 'own' })).body.id;
    if (!has(ids.done, true)) {
      ids.done = (await api.post('/api/tasks', { title: 'done' })).body.id;
      expect((await api.patch(`/api/tasks/${ids.done}`, { done: true })).status).toBe(200);
    }
  }

  beforeAll(async () => {
    stack = await createIsolatedStack('gwfuzz');
    [gateway, analytics] = await Promise.all([
      // Thousands of failed logins from one address must not lock the fuzzing user out.
      startService('gateway', stack, {
        LOGIN_MAX_FAILURES_PER_CLIENT: '1000000',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
        LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT: '1000000',
      }),
      startService('analytics', stack),
    ]);
    db = new mongo.MongoClient(stack.mongodbUri);
    await db.connect();
    email = uniqueEmail('fuzz');
    api = new ApiClient(gateway.url);
    expect((await api.register(email, PASSWORD)).status).toBe(201);
    const other = await registeredClient(gateway.url, 'fuzz-other');
    ids.foreign = (await other.post('/api/tasks', { title: 'foreign' })).body.id;
    await ensureTasks();
  });

  afterAll(async () => {
    await db?.close();
    await gateway?.stop();
    await analytics?.stop();
    await stack?.cleanup();
  });

  const idArbitrary = () =>
    fc.oneof(
      fc.constantFrom<'own' | 'done' | 'foreign'>('own', 'done', 'foreign').map((k) => ids[k]),
      fc.stringMatching(/^[0-9a-f]{24}$/),
      fc.stringMatching(/^[0-9A-Fa-f]{1,30}$/),
      oddString.filter((s) => s.length > 0).map(encode),
      fc.constantFrom('%24gt', '..%2F..%2Fetc', '%00', 'a'.repeat(3_000), '%E0%A4%A', 'null'),
    );

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    '%s: no 5xx, no crash, no change when rejected',
    async (_name, route) => {
      const requestArbitrary = fc.record({
        id: route.id ? idArbitrary() : fc.constant(''),
        query: route.query ? query : fc.constant(''),
        body: route.method === 'GET' ? fc.constant(undefined) : body,
        // Mostly the route as written; otherwise another spelling, which must be 404.
        spelling: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: fc.constantFrom(...PATH_SPELLINGS) },
        ),
        csrf: fc.constantFrom<'valid' | 'none' | 'wrong'>(
          'valid',
          'valid',
          'valid',
          'none',
          'wrong',
        ),
      });
      let before = await snapshot();
      await fc.assert(
        fc.asyncProperty(requestArbitrary, async (input) => {
          const written = input.spelling ? input.spelling[1](route.path) : route.path;
          const path = written.replace(':id', input.id);
          const response = await api.request(route.method, path, {
            raw: input.body,
            query: input.query || undefined,
            csrf:
              input.csrf === 'valid' ? undefined : input.csrf === 'wrong' ? 'x'.repeat(43) : false,
          });
          expect(response.status).toBeLessThan(500);
          expect(response.text).not.toMatch(INTERNALS);
          if (input.spelling && route.method !== 'GET' && input.body !== undefined) {
            // A body is checked before routing: malformed JSON may be 400 first.
            expect([400, 404, 413]).toContain(response.status);
          } else if (input.spelling && !decodable(path)) {
            // A path that is not valid percent-encoding is refused before any route is chosen.
            expect([400, 404]).toContain(response.status);
          } else if (input.spelling) {
            expect(response.status).toBe(404);
          }
          if (response.status >= 400) {
            expect(response.headers.get('content-type')).toContain('application/json');
            expect(response.body).toEqual({
              statusCode: response.status,
              message: expect.any(String),
              error: expect.any(String),
            });
            expect(await snapshot()).toBe(before);
          } else {
            // Accepted (valid input): the new state is the next baseline.
            if (route.path === '/api/auth/logout' || route.path === '/api/auth/login') {
              await ensureLoggedIn();
            }
            if (route.method !== 'GET') await ensureTasks();
            before = await snapshot();
          }
        }),
        { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
      expect(gateway.isRunning).toBe(true);
      expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
      await ensureLoggedIn();
    },
  );

  it('leaves Object.prototype clean and the data of the other user intact', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const foreign = await db
      .db()
      .collection('tasks')
      .findOne({ _id: new mongo.ObjectId(ids.foreign) });
    expect(foreign).toMatchObject({ title: 'foreign', done: false, deletedAt: null });
  });
});
