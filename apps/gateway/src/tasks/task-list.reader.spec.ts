import { Types, type Model } from 'mongoose';
import { Registry } from 'prom-client';
import type { Task } from './task.schema';
import type { TaskListCache } from './task-list.cache';
import { TaskListReader } from './task-list.reader';

/** A model whose every find waits until the test lets it answer, and counts the finds. */
class HeldTasks {
  finds = 0;
  private release: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  find() {
    this.finds += 1;
    const answer = this.released.then(() => [
      {
        _id: new Types.ObjectId(),
        title: 't',
        done: false,
        createdAt: new Date(0),
        updatedAt: new Date(0),
      },
    ]);
    const chain = { sort: () => chain, limit: () => chain, lean: () => chain, exec: () => answer };
    return chain;
  }
  aggregate() {
    return { exec: () => this.released.then(() => [{ _id: false, count: 1 }]) };
  }
  answer() {
    this.release();
  }
}

describe('TaskListReader: concurrent misses for one page share one query', () => {
  it('asks MongoDB once for many parallel misses, and stores the page once', async () => {
    const tasks = new HeldTasks();
    const stored: string[] = [];
    const cache = {
      lookup: (_user: string, page: string) => Promise.resolve({ key: `v1:${page}` }),
      store: (key: string) => Promise.resolve(void stored.push(key)),
    } as unknown as TaskListCache;
    const reader = new TaskListReader(tasks as unknown as Model<Task>, cache, new Registry());
    const user = new Types.ObjectId().toHexString();
    const query = { status: 'all' as const, limit: 500 };
    const pages = Array.from({ length: 10 }, () => reader.page(user, query));
    // Another page is another query.
    const other = reader.page(user, { ...query, limit: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    tasks.answer();
    const bodies = await Promise.all(pages);
    await other;
    expect(tasks.finds).toBe(2);
    expect(new Set(bodies).size).toBe(1);
    expect(stored).toEqual(['v1:all:500:', 'v1:all:1:']);
    // Once answered, the next miss queries again (nothing is kept beyond the flight).
    await reader.page(user, query);
    expect(tasks.finds).toBe(3);
  });
});
