/**
 * The raw baseline of the write benchmark (docs/api.md, Benchmark results, `writes.raw_*`): the MongoDB and
 * Redis I/O of the gateway's write path (apps/gateway/src/tasks/tasks.service.ts), no framework.
 *
 * - POST /raw-writes/api/tasks: the per-user cap's quota (the gateway's TaskQuota: an estimate
 *   in Redis, the live tasks counted only when it runs out) beside a cache version bump, insert of the task with its outbox entry (the `create` document shape),
 *   version bump again.
 * - PATCH /raw-writes/api/tasks/:id ({"done":true}) and DELETE: the task's Redis lock
 *   (SET NX PX `${REDIS_PREFIX}task-lock:<id>`, owner-checked release script), findOne,
 *   updateOne with `$set`/`$push outbox`/`$min outboxSince` (task-outbox.ts `withEvents`),
 *   release, version bump.
 * Every request authenticates (session look-up and rolling refresh, CSRF check) and spends the
 * API rate limits' counters, as the gateway's guard does. It does NOT publish or settle the
 * outbox entries (the gateway's relay does both in the same run).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { mongo } from 'mongoose';
import type { RedisClientType } from 'redis';
import {
  TASK_EVENT_VERSION,
  type TaskEvent,
  type TaskEventType,
} from '../libs/contracts/src/index.ts';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type Redis = RedisClientType<{}, {}, {}, 3, {}>;
type Send = (res: ServerResponse, status: number, body: string) => void;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const LOCK_TTL_MS = 5_000;
const LOCK_WAIT_MS = 2_000;
const VERSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const PROJECTION = { _id: 1, title: 1, done: 1, createdAt: 1, updatedAt: 1 };
/** The gateway's default TASKS_PER_USER_MAX. */
const TASKS_PER_USER_MAX = 5_000;
const QUOTA_RESERVE = `if redis.call('exists', KEYS[1]) == 1 then return redis.call('incr', KEYS[1]) end return false`;
const QUOTA_TTL_MS = 10 * 60_000;

let lastNs = 0n;
/** The gateway's UniqueNanosecondClock and RFC 3339 nanosecond format. */
function occurredAt(): string {
  const candidate = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNs = candidate > lastNs ? candidate : lastNs + 1n;
  const seconds = lastNs / 1_000_000_000n;
  const fraction = (lastNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

function event(type: TaskEventType, taskId: string, userId: string): TaskEvent {
  return {
    eventId: randomUUID(),
    type,
    taskId,
    userId,
    occurredAt: occurredAt(),
    version: TASK_EVENT_VERSION,
  };
}

function withEvents(set: Record<string, unknown>, events: TaskEvent[], now: Date): mongo.Document {
  return {
    $set: { ...set, outboxPending: true },
    $push: { outbox: { $each: events } },
    $min: { outboxSince: now },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let data = '';
  for await (const chunk of req) data += String(chunk);
  return data;
}

export interface RawWriteDeps {
  redis: Redis;
  tasks: mongo.Collection<mongo.Document>;
  ObjectId: typeof mongo.ObjectId;
  prefix: string;
  send: Send;
  /** Session look-up and refresh: the session, or undefined (401). */
  session(req: IncomingMessage): Promise<{ user?: { id: string }; csrfToken?: string } | undefined>;
  /** The API rate limits' counters of a signed-in request: false when one is spent (429). */
  spendRateLimits(req: IncomingMessage, userId: string): Promise<boolean>;
}

export function rawWriteHandler(deps: RawWriteDeps) {
  const { redis, tasks, ObjectId, prefix, send } = deps;
  // The gateway's TaskQuota (tasks/task-quota.ts): raise the estimate, count only without one
  // or above the cap.
  const reserve = async (userId: string): Promise<boolean> => {
    const key = `${prefix}raw-tasks-owned:${userId}`;
    const estimate = await redis.eval(QUOTA_RESERVE, { keys: [key] });
    if (estimate !== null && Number(estimate) <= TASKS_PER_USER_MAX) return true;
    const owned = await tasks.countDocuments({ userId: new ObjectId(userId), deletedAt: null });
    await redis.set(key, String(owned + 1), { PX: QUOTA_TTL_MS });
    return owned < TASKS_PER_USER_MAX;
  };
  const invalidate = async (userId: string) => {
    const key = `${prefix}tasks-version:${userId}`;
    await redis.multi().incr(key).pExpire(key, VERSION_TTL_MS).exec();
  };
  const locked = async <T,>(taskId: string, work: () => Promise<T>): Promise<T | 409> => {
    const key = `${prefix}task-lock:${taskId}`;
    const token = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    while ((await redis.set(key, token, { NX: true, PX: LOCK_TTL_MS })) === null) {
      if (Date.now() >= deadline) return 409;
      await new Promise((resolve) => setTimeout(resolve, 5 * (1 + Math.random())));
    }
    try {
      return await work();
    } finally {
      await redis.eval(RELEASE, { keys: [key], arguments: [token] });
    }
  };
  const view = (t: Record<string, unknown>) =>
    JSON.stringify({
      id: String(t._id),
      title: t.title,
      done: t.done,
      createdAt: (t.createdAt as Date).toISOString(),
      updatedAt: (t.updatedAt as Date).toISOString(),
    });

  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const body = await readBody(req);
    const session = await deps.session(req);
    const userId = session?.user?.id;
    if (!userId) return send(res, 401, '{"message":"Not logged in"}');
    if (!(await deps.spendRateLimits(req, userId))) {
      return send(res, 429, '{"message":"Too many requests"}');
    }
    if (!session.csrfToken || req.headers['x-csrf-token'] !== session.csrfToken) {
      return send(res, 403, '{"message":"Invalid CSRF token"}');
    }
    const id = path.slice('/api/tasks/'.length);
    if (req.method === 'POST' && path === '/api/tasks') {
      const { title } = JSON.parse(body) as { title: string };
      const now = new Date();
      const _id = new ObjectId();
      const doc = {
        _id,
        userId: new ObjectId(userId),
        title,
        done: false,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        outbox: [event('task.created', _id.toHexString(), userId)],
        outboxPending: true,
        outboxSince: now,
      };
      const [allowed] = await Promise.all([reserve(userId), invalidate(userId)]);
      if (!allowed) return send(res, 409, '{"message":"Too many tasks"}');
      await tasks.insertOne(doc);
      await invalidate(userId);
      return send(res, 201, view(doc));
    }
    if (!/^[0-9a-f]{24}$/.test(id)) return send(res, 404, '{"message":"Not Found"}');
    const live = { _id: new ObjectId(id), userId: new ObjectId(userId), deletedAt: null };
    if (req.method === 'PATCH') {
      const { done } = JSON.parse(body) as { done: boolean };
      const result = await locked(id, async () => {
        const current = await tasks.findOne(live, { projection: PROJECTION });
        if (!current) return 404;
        if (current.done === done) return view(current);
        const now = new Date();
        const type = done ? 'task.completed' : 'task.uncompleted';
        const updated = await tasks.updateOne(
          { ...live, title: current.title, done: current.done },
          withEvents({ done, updatedAt: now }, [event(type, id, userId)], now),
        );
        return updated.matchedCount === 0 ? 409 : view({ ...current, done, updatedAt: now });
      });
      if (typeof result === 'number') return send(res, result, '{}');
      await invalidate(userId);
      return send(res, 200, result);
    }
    if (req.method === 'DELETE') {
      const result = await locked(id, async () => {
        const now = new Date();
        const updated = await tasks.updateOne(
          live,
          withEvents({ deletedAt: now, updatedAt: now }, [event('task.deleted', id, userId)], now),
        );
        return updated.matchedCount === 0 ? 404 : 204;
      });
      if (result !== 204) return send(res, result, '{}');
      await invalidate(userId);
      res.writeHead(204).end();
      return;
    }
    send(res, 404, '{"message":"Not Found"}');
  };
}
