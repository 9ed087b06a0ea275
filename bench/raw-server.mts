/**
 * The baseline of the HTTP benchmark: a plain `node:http` handler, no framework, doing what
 * the gateway's `GET /api/tasks` does with the same drivers:
 *
 * - `GET /api/tasks` (`status`, `limit`; the benchmark reads first pages, no cursor): unsign
 *   the `taskit.sid` cookie (express-session's `s:` + HMAC-SHA256 format, as cookie-signature
 *   makes it), read the session JSON from Redis (`${REDIS_PREFIX}sess:<sid>`, node-redis),
 *   take the user id, run the gateway's MongoDB queries (the page with the same filter,
 *   projection, sort and limit, and the counts; MongoDB driver bundled with mongoose) and
 *   answer the same JSON. This is the contract's `raw`.
 * - `GET /same-io/api/tasks`: the same plus everything else the gateway does around it per
 *   request: the API rate limits' counters (rate-limiter-flexible: per client, per user and per
 *   user per second, the three a signed-in request spends in the gateway's RateLimitGuard, with
 *   its options), the per-user cache version key and a cached page in Redis (the gateway's
 *   TaskListCache protocol: version GET, page GET and its checksum check (libs/contracts, task-list-cache-entry.ts),
 *   MongoDB and SET only on a miss). The same I/O as the gateway, so the difference is the
 *   framework and middleware.
 *
 * - `/raw-writes/api/tasks[/:id]`: the write path's I/O (raw-writes.mts).
 *
 * `GET /health` answers `{"inflight": n}` (requests being handled).
 *
 * Environment: PORT, MONGODB_URI, REDIS_URL, REDIS_PREFIX, SESSION_SECRET,
 * TASK_LIST_CACHE_TTL_SECONDS (as the gateway's, same default).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { API_RATE_LIMIT_DEFAULTS } from '../libs/config/src/setting-defaults.ts';
import { DEFAULT_TASK_LIST_CACHE_TTL_SECONDS } from '../libs/config/src/setting-defaults.ts';
import {
  bodyOfTaskListCacheEntry,
  toTaskListCacheEntry,
} from '../libs/contracts/src/task-list-cache-entry.ts';
import { rawWriteHandler } from './raw-writes.mts';

const PORT = Number(process.env.PORT ?? 0);
const MONGODB_URI = required('MONGODB_URI');
const REDIS_URL = required('REDIS_URL');
const REDIS_PREFIX = required('REDIS_PREFIX');
const SESSION_SECRET = required('SESSION_SECRET');
const COOKIE = 'taskit.sid';
const CACHE_TTL_MS =
  Number(process.env.TASK_LIST_CACHE_TTL_SECONDS ?? DEFAULT_TASK_LIST_CACHE_TTL_SECONDS) * 1000;
const PROJECTION = { _id: 1, title: 1, done: 1, createdAt: 1, updatedAt: 1 };
/** The gateway's page size and cache size bound (defaults of limit, TASK_LIST_CACHE_MAX_BYTES). */
const PAGE_LIMIT_MAX = 500;
const CACHE_MAX_BYTES = 262_144;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

interface StoredTask {
  _id: mongo.ObjectId;
  title: string;
  done: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface TaskView {
  id: string;
  title: string;
  done: boolean;
  createdAt: string;
  updatedAt: string;
}

/** express-session's cookie value `s:<sid>.<mac>` → sid, or undefined when forged. */
export function unsignSessionCookie(value: string, secret: string): string | undefined {
  if (!value.startsWith('s:')) return undefined;
  const signed = value.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot < 0) return undefined;
  const sid = signed.slice(0, dot);
  const expected = Buffer.from(
    `${sid}.${createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '')}`,
  );
  const actual = Buffer.from(signed);
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? sid : undefined;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function toTaskView(task: StoredTask): TaskView {
  return {
    id: task._id.toHexString(),
    title: task.title,
    done: task.done,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}

let inflight = 0;
// As the gateway's client: no timer per command (apps/gateway/src/redis/redis.module.ts).
const redis = createClient({ url: REDIS_URL, commandOptions: { timeout: 0 } });
redis.on('error', (error: Error) => process.stderr.write(`redis: ${error.message}\n`));
const mongoClient = new mongo.MongoClient(MONGODB_URI, {
  serverSelectionTimeoutMS: 5_000,
  // As the gateway's MONGODB_MAX_POOL_SIZE: FerretDB's PG pool is shared (docs/local-stack.md).
  maxPoolSize: 20,
});
const tasks = mongoClient.db().collection<StoredTask & { userId: mongo.ObjectId }>('tasks');

/** The gateway's API limiters (apps/gateway/src/rate-limit/rate-limits.ts), same settings. */
function rateLimiter(
  name: string,
  points: number,
  duration = Number(
    process.env.API_RATE_LIMIT_WINDOW_SECONDS ??
      API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_WINDOW_SECONDS,
  ),
): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true,
    keyPrefix: `${REDIS_PREFIX}raw-rate-limit:${name}`,
    points,
    duration,
    inMemoryBlockOnConsumed: points + 1,
    insuranceLimiter: new RateLimiterMemory({ points, duration }),
  });
}
const perClient = rateLimiter(
  'client',
  Number(
    process.env.API_RATE_LIMIT_PER_CLIENT ?? API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_CLIENT,
  ),
);
const perUser = rateLimiter(
  'user',
  Number(process.env.API_RATE_LIMIT_PER_USER ?? API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_USER),
);
const perUserPerSecond = rateLimiter(
  'user-second',
  Number(
    process.env.API_RATE_LIMIT_PER_USER_PER_SECOND ??
      API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_USER_PER_SECOND,
  ),
  1,
);

/** Spends a signed-in API request's three counters together, as RateLimitGuard does: allowed? */
async function spendRateLimits(req: IncomingMessage, userId: string): Promise<boolean> {
  const client = createHash('sha256')
    .update(req.socket.remoteAddress ?? 'unknown')
    .digest('hex')
    .slice(0, 32);
  const spent = await Promise.allSettled([
    perClient.consume(client),
    perUser.consume(userId),
    perUserPerSecond.consume(userId),
  ]);
  return spent.every((outcome) => outcome.status === 'fulfilled');
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function error(res: ServerResponse, status: number, message: string, name: string): void {
  send(res, status, JSON.stringify({ statusCode: status, message, error: name }));
}

/**
 * The gateway's page query (task-list.reader.ts): one page of up to `limit`, and the counts
 * from it when it holds the whole list, else from a second query.
 */
async function readPage(userId: string, status: string, limit: number): Promise<string> {
  const owner = { userId: new mongo.ObjectId(userId), deletedAt: null };
  const counted = async () => {
    const groups = await tasks
      .aggregate<{ _id: boolean; count: number }>([
        { $match: owner },
        { $group: { _id: '$done', count: { $sum: 1 } } },
      ])
      .toArray();
    const counts = { active: 0, completed: 0 };
    for (const group of groups) counts[group._id ? 'completed' : 'active'] = group.count;
    return counts;
  };
  const [found, counts] = await Promise.all([
    tasks
      .find(
        { ...owner, ...(status === 'all' ? {} : { done: status === 'completed' }) },
        { projection: PROJECTION, batchSize: limit + 1, singleBatch: true },
      )
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit + 1)
      .toArray(),
    status === 'all' ? undefined : counted(),
  ]);
  const shown = found.slice(0, limit);
  const last = shown.at(-1);
  const completed = found.filter((task) => task.done).length;
  return JSON.stringify({
    tasks: shown.map(toTaskView),
    nextCursor:
      found.length > limit && last
        ? Buffer.from(`${last.createdAt.getTime()}.${last._id.toHexString()}`).toString('base64url')
        : null,
    counts:
      counts ??
      (found.length <= limit ? { active: found.length - completed, completed } : await counted()),
  });
}

async function sessionOf(req: IncomingMessage) {
  const cookie = cookieValue(req.headers.cookie, COOKIE);
  const sid = cookie === undefined ? undefined : unsignSessionCookie(cookie, SESSION_SECRET);
  if (sid === undefined) return undefined;
  const sessionKey = `${REDIS_PREFIX}sess:${sid}`;
  const raw = await redis.get(sessionKey);
  if (raw === null) return undefined;
  return JSON.parse(raw) as { user?: { id: string }; csrfToken?: string };
}

const writes = rawWriteHandler({
  redis,
  tasks: mongoClient.db().collection('tasks'),
  ObjectId: mongo.ObjectId,
  prefix: REDIS_PREFIX,
  send,
  session: sessionOf,
  spendRateLimits,
});

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://raw');
  if (url.pathname.startsWith('/raw-writes/')) {
    return writes(req, res, url.pathname.slice('/raw-writes'.length));
  }
  const sameIo = url.pathname === '/same-io/api/tasks';
  if (req.method === 'GET' && url.pathname === '/health') {
    return send(res, 200, JSON.stringify({ inflight: inflight - 1 }));
  }
  if (req.method !== 'GET' || (url.pathname !== '/api/tasks' && !sameIo)) {
    return error(res, 404, 'Not Found', 'Not Found');
  }
  const status = url.searchParams.get('status') ?? 'all';
  if (!['all', 'active', 'completed'].includes(status)) {
    return error(res, 400, 'status must be one of all, active, completed', 'Bad Request');
  }
  const limit = Number(url.searchParams.get('limit') ?? PAGE_LIMIT_MAX);
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMIT_MAX) {
    return error(
      res,
      400,
      `limit must be a whole number from 1 to ${PAGE_LIMIT_MAX}`,
      'Bad Request',
    );
  }
  const cookie = cookieValue(req.headers.cookie, COOKIE);
  const sid = cookie === undefined ? undefined : unsignSessionCookie(cookie, SESSION_SECRET);
  const sessionKey = `${REDIS_PREFIX}sess:${sid}`;
  const raw = sid === undefined ? null : await redis.get(sessionKey);
  const session = raw === null ? undefined : (JSON.parse(raw) as { user?: { id: string } });
  const userId = session?.user?.id;
  if (!userId) return error(res, 401, 'Not logged in', 'Unauthorized');

  if (!sameIo) return send(res, 200, await readPage(userId, status, limit));
  if (!(await spendRateLimits(req, userId))) {
    return error(res, 429, 'Too many requests', 'Too Many Requests');
  }
  const version = (await redis.get(`${REDIS_PREFIX}tasks-version:${userId}`)) ?? '0';
  const cacheKey = `${REDIS_PREFIX}rawcache::tasks:${userId}:v${version}:${status}:${limit}:`;
  const entry = await redis.get(cacheKey);
  let body = entry === null ? undefined : bodyOfTaskListCacheEntry(entry);
  if (body === undefined) {
    body = await readPage(userId, status, limit);
    if (Buffer.byteLength(body) <= CACHE_MAX_BYTES) {
      await redis.set(cacheKey, toTaskListCacheEntry(body), { PX: CACHE_TTL_MS });
    }
  }
  send(res, 200, body);
}

async function main(): Promise<void> {
  await Promise.all([redis.connect(), mongoClient.connect()]);
  const server = createServer((req, res) => {
    inflight += 1;
    handle(req, res)
      .finally(() => (inflight -= 1))
      .catch((cause: unknown) => {
        process.stderr.write(`request failed: ${String(cause)}\n`);
        if (!res.headersSent) error(res, 503, 'Service Unavailable', 'Service Unavailable');
        else res.destroy();
      });
  });
  server.listen(PORT, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`raw server on ${typeof address === 'object' ? address?.port : PORT}\n`);
  });
  const shutdown = () => {
    server.close();
    server.closeAllConnections();
    void Promise.allSettled([redis.close(), mongoClient.close()]).then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((cause: unknown) => {
  process.stderr.write(`raw server: ${String(cause)}\n`);
  process.exit(1);
});
