/* eslint-disable @typescript-eslint/no-unsafe-call -- JSON response bodies are untyped */
import { REQUEST_BODY_MAX_BYTES } from '@taskit/contracts';
import { mongo } from 'mongoose';
import { ApiClient, registeredClient, uniqueEmail } from '../../../test/support/api-client';
import { PATH_SPELLINGS } from '../../../test/support/path-spellings';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';
import { TITLE_MAX_BYTES } from '../src/tasks/task.dto';

/**
 * docs/api.md, HTTP API: hostile input gets a 4xx with the error shape, never a 5xx, and changes
 * nothing. Each row runs against a logged-in user with tasks, then the database is compared.
 */
interface Row {
  name: string;
  method: string;
  /** `:own`, `:done` and `:foreign` are replaced by real task ids. */
  path: string;
  body?: unknown;
  raw?: string;
  query?: string;
  headers?: Record<string, string>;
  csrf?: boolean | string;
  anonymous?: boolean;
  status: number;
}

const big = (n: number) => 'x'.repeat(n);

const rows: Row[] = [
  // MongoDB operator objects where strings or booleans are expected
  {
    name: 'title $gt',
    method: 'POST',
    path: '/api/tasks',
    body: { title: { $gt: '' } },
    status: 400,
  },
  {
    name: 'title $ne',
    method: 'POST',
    path: '/api/tasks',
    body: { title: { $ne: null } },
    status: 400,
  },
  {
    name: 'patch title $set',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { title: { $set: 'x' } },
    status: 400,
  },
  {
    name: 'patch done $ne',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { done: { $ne: false } },
    status: 400,
  },
  {
    name: 'patch top-level $set',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { $set: { userId: 'x' } },
    status: 400,
  },
  {
    name: 'patch dotted key',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { 'outbox.0': {} },
    status: 400,
  },
  {
    name: 'toggle-all done $ne',
    method: 'POST',
    path: '/api/tasks/toggle-all',
    body: { done: { $ne: true } },
    status: 400,
  },
  {
    name: 'login operators',
    method: 'POST',
    path: '/api/auth/login',
    body: { email: { $gt: '' }, password: { $gt: '' } },
    anonymous: true,
    status: 400,
  },
  {
    name: 'login email $regex',
    method: 'POST',
    path: '/api/auth/login',
    body: { email: { $regex: '.*' }, password: 'correct horse battery' },
    anonymous: true,
    status: 400,
  },
  {
    name: 'register email $regex',
    method: 'POST',
    path: '/api/auth/register',
    body: { email: { $regex: '.*' }, password: 'correct horse battery' },
    anonymous: true,
    status: 400,
  },
  {
    name: 'query status[$ne]',
    method: 'GET',
    path: '/api/tasks',
    query: 'status[$ne]=x',
    status: 400,
  },
  {
    name: 'query $where',
    method: 'GET',
    path: '/api/tasks',
    query: 'status=all&$where=1',
    status: 400,
  },
  {
    name: 'duplicate key hides an operator',
    method: 'POST',
    path: '/api/tasks',
    raw: '{"title":"ok","title":{"$gt":""}}',
    status: 400,
  },
  // prototype pollution
  {
    name: 'body __proto__',
    method: 'POST',
    path: '/api/tasks',
    raw: '{"title":"x","__proto__":{"done":true}}',
    status: 400,
  },
  {
    name: 'body constructor.prototype',
    method: 'POST',
    path: '/api/tasks',
    raw: '{"title":"x","constructor":{"prototype":{"admin":true}}}',
    status: 400,
  },
  {
    name: 'patch __proto__',
    method: 'PATCH',
    path: '/api/tasks/:own',
    raw: '{"__proto__":{"title":"pwned"}}',
    status: 400,
  },
  {
    name: 'nested __proto__',
    method: 'POST',
    path: '/api/tasks/toggle-all',
    raw: '{"done":true,"x":{"__proto__":{"polluted":1}}}',
    status: 400,
  },
  {
    name: 'register __proto__',
    method: 'POST',
    path: '/api/auth/register',
    raw: `{"email":"${uniqueEmail('proto')}","password":"correct horse battery","__proto__":{"admin":true}}`,
    anonymous: true,
    status: 400,
  },
  {
    name: 'query __proto__',
    method: 'GET',
    path: '/api/tasks',
    query: '__proto__[status]=all',
    status: 400,
  },
  {
    name: 'query constructor',
    method: 'GET',
    path: '/api/tasks',
    query: 'constructor=1',
    status: 400,
  },
  // wrong types
  { name: 'title number', method: 'POST', path: '/api/tasks', body: { title: 123 }, status: 400 },
  { name: 'title boolean', method: 'POST', path: '/api/tasks', body: { title: true }, status: 400 },
  { name: 'title array', method: 'POST', path: '/api/tasks', body: { title: ['a'] }, status: 400 },
  { name: 'title null', method: 'POST', path: '/api/tasks', body: { title: null }, status: 400 },
  { name: 'array body', method: 'POST', path: '/api/tasks', raw: '[{"title":"x"}]', status: 400 },
  { name: 'string body', method: 'POST', path: '/api/tasks', raw: '"title"', status: 400 },
  { name: 'null body', method: 'POST', path: '/api/tasks', raw: 'null', status: 400 },
  {
    name: 'patch done string',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { done: 'false' },
    status: 400,
  },
  {
    name: 'patch done number',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { done: 0 },
    status: 400,
  },
  {
    name: 'patch unknown field',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { userId: 'someone' },
    status: 400,
  },
  {
    name: 'patch createdAt',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { createdAt: '2000-01-01T00:00:00Z' },
    status: 400,
  },
  {
    name: 'toggle-all null',
    method: 'POST',
    path: '/api/tasks/toggle-all',
    body: { done: null },
    status: 400,
  },
  {
    name: 'clear-completed with fields',
    method: 'POST',
    path: '/api/tasks/clear-completed',
    body: { done: true },
    status: 400,
  },
  {
    name: 'delete with a body',
    method: 'DELETE',
    path: '/api/tasks/:own',
    body: { force: true },
    status: 400,
  },
  {
    name: 'register password number',
    method: 'POST',
    path: '/api/auth/register',
    body: { email: uniqueEmail('num'), password: 12345678 },
    anonymous: true,
    status: 400,
  },
  // huge input
  {
    name: '15 kB title (within the body limit)',
    method: 'POST',
    path: '/api/tasks',
    body: { title: big(15_000) },
    status: 400,
  },
  {
    name: 'huge email',
    method: 'POST',
    path: '/api/auth/register',
    body: { email: `${big(10_000)}@example.com`, password: 'correct horse battery' },
    anonymous: true,
    status: 400,
  },
  {
    name: 'huge password',
    method: 'POST',
    path: '/api/auth/login',
    body: { email: uniqueEmail('big'), password: big(15_000) },
    anonymous: true,
    status: 400,
  },
  {
    name: 'body one byte over the limit',
    method: 'POST',
    path: '/api/tasks',
    raw: `{"title":"${big(REQUEST_BODY_MAX_BYTES + 1 - '{"title":""}'.length)}"}`,
    status: 413,
  },
  {
    name: 'body over 1 MB',
    method: 'POST',
    path: '/api/tasks',
    body: { title: big(1_100_000) },
    status: 413,
  },
  {
    name: 'deep nesting',
    method: 'POST',
    path: '/api/tasks',
    raw: `{"title":"x","n":${'{"n":'.repeat(2_000)}1${'}'.repeat(2_000)}}`,
    status: 400,
  },
  // ids
  { name: 'short id', method: 'GET', path: '/api/tasks/123', status: 404 },
  { name: 'non-hex id', method: 'GET', path: `/api/tasks/${'g'.repeat(24)}`, status: 404 },
  { name: '12-character id', method: 'GET', path: '/api/tasks/aaaaaaaaaaaa', status: 404 },
  { name: 'operator id', method: 'GET', path: '/api/tasks/%24gt', status: 404 },
  { name: 'huge id', method: 'DELETE', path: `/api/tasks/${'a'.repeat(5_000)}`, status: 404 },
  { name: 'bad percent-encoding', method: 'GET', path: '/api/tasks/%E0%A4%A', status: 400 },
  { name: 'foreign id get', method: 'GET', path: '/api/tasks/:foreign', status: 404 },
  {
    name: 'foreign id patch',
    method: 'PATCH',
    path: '/api/tasks/:foreign',
    body: { title: 'mine now' },
    status: 404,
  },
  { name: 'foreign id delete', method: 'DELETE', path: '/api/tasks/:foreign', status: 404 },
  // malformed JSON and media types
  { name: 'truncated JSON', method: 'POST', path: '/api/tasks', raw: '{"title": "x"', status: 400 },
  { name: 'unquoted JSON', method: 'POST', path: '/api/tasks', raw: '{title: x}', status: 400 },
  {
    name: 'malformed login',
    method: 'POST',
    path: '/api/auth/login',
    raw: '{"email":',
    anonymous: true,
    status: 400,
  },
  { name: 'empty JSON body', method: 'POST', path: '/api/tasks', raw: '', status: 400 },
  {
    name: 'text/plain body',
    method: 'POST',
    path: '/api/tasks',
    raw: 'title=x',
    headers: { 'content-type': 'text/plain' },
    status: 415,
  },
  {
    name: 'form body',
    method: 'POST',
    path: '/api/tasks',
    raw: 'title=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
  },
  // CSRF
  {
    name: 'create without CSRF',
    method: 'POST',
    path: '/api/tasks',
    body: { title: 'x' },
    csrf: false,
    status: 403,
  },
  {
    name: 'patch without CSRF',
    method: 'PATCH',
    path: '/api/tasks/:own',
    body: { done: true },
    csrf: false,
    status: 403,
  },
  {
    name: 'delete without CSRF',
    method: 'DELETE',
    path: '/api/tasks/:own',
    csrf: false,
    status: 403,
  },
  {
    name: 'toggle-all without CSRF',
    method: 'POST',
    path: '/api/tasks/toggle-all',
    body: { done: true },
    csrf: false,
    status: 403,
  },
  {
    name: 'clear-completed without CSRF',
    method: 'POST',
    path: '/api/tasks/clear-completed',
    csrf: false,
    status: 403,
  },
  {
    name: 'logout without CSRF',
    method: 'POST',
    path: '/api/auth/logout',
    csrf: false,
    status: 403,
  },
  {
    name: 'CSRF token in the query',
    method: 'POST',
    path: '/api/tasks',
    body: { title: 'x' },
    csrf: false,
    query: 'csrfToken=:token',
    status: 403,
  },
  {
    name: 'empty CSRF token',
    method: 'POST',
    path: '/api/tasks',
    body: { title: 'x' },
    csrf: '',
    status: 403,
  },
  // sessions
  {
    name: 'garbage cookie',
    method: 'GET',
    path: '/api/tasks',
    headers: { cookie: 'taskit.sid=%%%; taskit.sid=s:../../etc' },
    anonymous: true,
    status: 401,
  },
];

/** Every route under other spellings, with a valid token: routing is exact, so each is 404. */
const RESPELLED: Pick<Row, 'method' | 'path' | 'body' | 'anonymous'>[] = [
  {
    method: 'POST',
    path: '/api/auth/register',
    body: { email: 'respelled@example.com', password: 'correct horse battery' },
    anonymous: true,
  },
  {
    method: 'POST',
    path: '/api/auth/login',
    body: { email: 'respelled@example.com', password: 'correct horse battery' },
    anonymous: true,
  },
  { method: 'POST', path: '/api/auth/logout' },
  {
    method: 'POST',
    path: '/api/auth/password',
    body: { currentPassword: 'correct horse battery', newPassword: 'a new and long passphrase 42' },
  },
  { method: 'POST', path: '/api/auth/sessions/revoke-others' },
  { method: 'POST', path: '/api/tasks', body: { title: 'respelled' } },
  { method: 'PATCH', path: '/api/tasks/:own', body: { title: 'respelled', done: true } },
  { method: 'DELETE', path: '/api/tasks/:own' },
  { method: 'POST', path: '/api/tasks/toggle-all', body: { done: true } },
  { method: 'POST', path: '/api/tasks/clear-completed' },
];
rows.push(
  ...RESPELLED.flatMap((route) =>
    PATH_SPELLINGS.map(([spelling, respell]) => ({
      ...route,
      name: `${route.method} ${route.path} with ${spelling}`,
      path: respell(route.path),
      status: 404,
    })),
  ),
  // A form or text/plain body is 415 on any spelling, before routing.
  ...[
    '/api/auth/login',
    ...PATH_SPELLINGS.map(([, respell]) => respell('/api/auth/login')),
  ].flatMap((path) => [
    {
      name: `form login on ${path}`,
      method: 'POST',
      path,
      raw: 'email=a%40example.com&password=correct+horse+battery',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      anonymous: true,
      status: 415,
    },
    {
      name: `text/plain login on ${path}`,
      method: 'POST',
      path,
      raw: '{"email":"a@example.com","password":"correct horse battery"}',
      headers: { 'content-type': 'text/plain' },
      anonymous: true,
      status: 415,
    },
  ]),
);

describe('gateway: hostile input (all 4xx, none 5xx, nothing changes)', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let db: mongo.MongoClient;
  let api: ApiClient;
  const ids: Record<string, string> = {};

  /** Everything but the outbox fields (which an outbox relay may drain at any time). */
  async function snapshot(): Promise<unknown> {
    const tasks = await db
      .db()
      .collection('tasks')
      .find({}, { projection: { outbox: 0, outboxPending: 0, outboxSince: 0 } })
      .sort({ _id: 1 })
      .toArray();
    const users = await db.db().collection('users').find().sort({ _id: 1 }).toArray();
    return { tasks, users };
  }

  beforeAll(async () => {
    stack = await createIsolatedStack('gwhostile');
    gateway = await startService('gateway', stack);
    db = new mongo.MongoClient(stack.mongodbUri);
    await db.connect();
    api = await registeredClient(gateway.url, 'hostile');
    ids[':own'] = (await api.post('/api/tasks', { title: 'own' })).body.id;
    ids[':done'] = (await api.post('/api/tasks', { title: 'done' })).body.id;
    await api.patch(`/api/tasks/${ids[':done']}`, { done: true });
    const other = await registeredClient(gateway.url, 'other');
    ids[':foreign'] = (await other.post('/api/tasks', { title: 'foreign' })).body.id;
    ids[':token'] = api.csrfToken!;
  });

  afterAll(async () => {
    await db?.close();
    await gateway?.stop();
    await stack?.cleanup();
  });

  const substitute = (text: string) => text.replace(/:own|:done|:foreign|:token/g, (k) => ids[k]);

  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    const before = await snapshot();
    const client = row.anonymous ? new ApiClient(gateway.url) : api;
    const response = await client.request(row.method, substitute(row.path), {
      body: row.body,
      raw: row.raw,
      query: row.query === undefined ? undefined : substitute(row.query),
      headers: row.headers,
      csrf: row.csrf,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.status).toBe(row.status);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.body).toEqual({
      statusCode: row.status,
      message: expect.any(String),
      error: expect.any(String),
    });
    expect(response.text).not.toMatch(/\n\s+at /);
    expect(await snapshot()).toEqual(before);
  });

  it('leaves Object.prototype and the session intact after all of it', async () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const me = await api.get('/api/auth/me');
    expect(me.status).toBe(200);
    const tasks = await api.get('/api/tasks');
    expect(tasks.body.tasks.map((t: { title: string }) => t.title)).toEqual(['own', 'done']);
  });

  it('accepts the largest valid title written as JSON escapes, well within the body limit', async () => {
    // 500 code points of 4 UTF-8 bytes (the 2,000-byte bound), each written as a surrogate pair
    // of \u escapes: 12 bytes of JSON per character.
    const title = '\u{1F600}'.repeat(TITLE_MAX_BYTES / 4);
    const raw = `{"title":"${'\\ud83d\\ude00'.repeat(TITLE_MAX_BYTES / 4)}"}`;
    expect(raw.length).toBeGreaterThan(6_000);
    expect(raw.length).toBeLessThan(REQUEST_BODY_MAX_BYTES);
    const created = await api.request('POST', '/api/tasks', { raw });
    expect(created.status).toBe(201);
    expect(created.body.title).toBe(title);
  });
});
