import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { METRICS_REGISTRY } from '@taskit/observability';
import { Types, type Model } from 'mongoose';
import { Counter, type Registry } from 'prom-client';
import { TASK_VIEW_PROJECTION, toTaskView, type StoredTask } from './task.mapper';
import { Task } from './task.schema';
import { TaskListCache } from './task-list.cache';
import { encodeCursor, type TaskListQuery } from './task-list.query';

/**
 * `GET /api/tasks` (docs/api.md, Pagination): one page of a user's live tasks, oldest first by
 * (createdAt, _id), with the next page's cursor and the counts of the whole list, answered as
 * the serialized body the cache keeps.
 *
 * Concurrent misses for one page on this gateway share one MongoDB query (single-flight by
 * cache key, which includes the list's version: a read after a write never joins a query
 * made before it).
 */
@Injectable()
export class TaskListReader {
  private readonly inFlight = new Map<string, Promise<string>>();
  // Labelled once, not per request.
  private readonly reads: Record<'cached' | 'queried' | 'joined', Counter.Internal>;

  constructor(
    @InjectModel(Task.name) private readonly tasks: Model<Task>,
    private readonly cache: TaskListCache,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const reads = new Counter({
      name: 'gateway_task_list_reads_total',
      help: 'Task-list pages answered from the cache, by a MongoDB query, or by joining a query in flight',
      labelNames: ['source'],
      registers: [registry],
    });
    this.reads = {
      cached: reads.labels('cache'),
      queried: reads.labels('query'),
      joined: reads.labels('joined'),
    };
  }

  /** The response body of the page `query` names. */
  async page(userId: string, query: TaskListQuery): Promise<string> {
    const page = `${query.status}:${query.limit}:${query.cursor?.text ?? ''}`;
    const lookup = await this.cache.lookup(userId, page);
    if (lookup.body !== undefined) {
      this.reads.cached.inc();
      return lookup.body;
    }
    const running = this.inFlight.get(lookup.key);
    if (running) {
      this.reads.joined.inc();
      return running;
    }
    this.reads.queried.inc();
    const reading = this.read(userId, query).then(async (body) => {
      await this.cache.store(lookup.key, body);
      return body;
    });
    this.inFlight.set(lookup.key, reading);
    try {
      return await reading;
    } finally {
      this.inFlight.delete(lookup.key);
    }
  }

  private async read(userId: string, { status, limit, cursor }: TaskListQuery): Promise<string> {
    const owner = { userId: new Types.ObjectId(userId), deletedAt: null };
    const filter = {
      ...owner,
      ...(status === 'all' ? {} : { done: status === 'completed' }),
      ...(cursor === undefined
        ? {}
        : {
            $or: [
              { createdAt: { $gt: cursor.after.createdAt } },
              {
                createdAt: cursor.after.createdAt,
                _id: { $gt: new Types.ObjectId(cursor.after.id) },
              },
            ],
          }),
    };
    // One more than the page shows tells whether there is a next page. One batch, closed at
    // once: on FerretDB a first batch as large as batchSize keeps a PostgreSQL connection
    // until the cursor is killed (docs/sessions-and-cache.md, The task-list cache).
    const pageQuery = this.tasks
      .find(filter, TASK_VIEW_PROJECTION, { batchSize: limit + 1, singleBatch: true })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit + 1)
      .lean<StoredTask[]>()
      .exec();
    // A first page of the whole list that holds every task already has the counts: most
    // lists are that, and the count query reads every task of the user again (on FerretDB,
    // grouped in Go: half its CPU in a soak). Other pages query in parallel.
    const wholeList = status === 'all' && cursor === undefined;
    const [found, counted] = await Promise.all([
      pageQuery,
      wholeList ? undefined : this.counts(owner),
    ]);
    const counts = counted ?? (found.length <= limit ? countsOf(found) : await this.counts(owner));
    const shown = found.slice(0, limit);
    const last = shown.at(-1);
    return JSON.stringify({
      tasks: shown.map(toTaskView),
      nextCursor:
        found.length > limit && last
          ? encodeCursor({ createdAt: last.createdAt, id: last._id.toHexString() })
          : null,
      counts,
    });
  }

  private async counts(owner: { userId: Types.ObjectId; deletedAt: null }): Promise<TaskCounts> {
    const groups = await this.tasks
      .aggregate<{ _id: boolean; count: number }>([
        { $match: owner },
        { $group: { _id: '$done', count: { $sum: 1 } } },
      ])
      .exec();
    const counts = { active: 0, completed: 0 };
    for (const group of groups) counts[group._id ? 'completed' : 'active'] = group.count;
    return counts;
  }
}

interface TaskCounts {
  active: number;
  completed: number;
}

function countsOf(tasks: StoredTask[]): TaskCounts {
  let completed = 0;
  for (const task of tasks) if (task.done) completed += 1;
  return { active: tasks.length - completed, completed };
}
