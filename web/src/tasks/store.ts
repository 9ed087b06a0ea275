/**
 * The todo list as the page shows it, kept on the server (docs/api.md, HTTP API) instead of
 * localStorage. Every change shows at once (optimistic); the requests go out one at a time,
 * in the order the changes were made, so the server sees them as the user made them (an
 * edit of a todo created a moment ago waits for its id). When the server refuses one, that
 * change alone is undone and `onRefused` tells the user.
 */
import { api, ApiError } from '../api';

export interface Task {
  id: string;
  title: string;
  done: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Todo {
  /** Local identity, stable while the server id is still unknown; also the list order. */
  readonly key: number;
  /** The server's id; null until the create request has answered. */
  id: string | null;
  title: string;
  completed: boolean;
}

export type Refusal = (what: string, error: unknown) => void;

interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
  counts: { active: number; completed: number };
}

async function readAllPages(): Promise<{ tasks: Task[]; counts: TaskPage['counts'] }> {
  const tasks: Task[] = [];
  let cursor: string | null = null;
  for (;;) {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page: TaskPage = await api<TaskPage>('GET', `/api/tasks?status=all${query}`);
    tasks.push(...page.tasks);
    if (page.nextCursor === null) return { tasks, counts: page.counts };
    cursor = page.nextCursor;
  }
}

export class TodoStore {
  private todos: Todo[] = [];
  private nextKey = 1;
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly onRefused: Refusal) {}

  get all(): readonly Todo[] {
    return this.todos;
  }

  get activeCount(): number {
    return this.todos.filter((todo) => !todo.completed).length;
  }

  get completedCount(): number {
    return this.todos.length - this.activeCount;
  }

  subscribe(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Resolves once every change made so far has been answered by the server. */
  settled(): Promise<void> {
    return this.queue;
  }

  /**
   * Reads every page of the list (docs/api.md, Pagination): the page shows all todos and its
   * counts are over all of them, and the per-account cap bounds this to a few requests. The
   * last page's `counts` must match what was read; a list changed in between (another tab)
   * is read again.
   */
  async load(): Promise<void> {
    const complete = ({ tasks, counts }: Awaited<ReturnType<typeof readAllPages>>) =>
      counts.active + counts.completed === tasks.length;
    let read = await readAllPages();
    for (let attempt = 1; attempt < 3 && !complete(read); attempt++) read = await readAllPages();
    this.todos = read.tasks.map((task) => ({
      key: this.nextKey++,
      id: task.id,
      title: task.title,
      completed: task.done,
    }));
    this.changed();
  }

  byKey(key: number): Todo | undefined {
    return this.todos.find((todo) => todo.key === key);
  }

  add(title: string): Todo {
    const todo: Todo = { key: this.nextKey++, id: null, title, completed: false };
    this.todos.push(todo);
    this.changed();
    this.send(
      `add “${title}”`,
      async () => {
        const task = await api<Task>('POST', '/api/tasks', { title });
        todo.id = task.id;
        todo.title = task.title;
      },
      () => this.remove(todo),
    );
    return todo;
  }

  toggle(todo: Todo, completed: boolean): void {
    const before = todo.completed;
    if (before === completed) return;
    todo.completed = completed;
    this.changed();
    this.sendFor(todo, completed ? 'complete' : 'reopen', { done: completed }, () => {
      todo.completed = before;
    });
  }

  rename(todo: Todo, title: string): void {
    const before = todo.title;
    if (before === title) return;
    todo.title = title;
    this.changed();
    this.sendFor(todo, 'rename', { title }, () => {
      todo.title = before;
    });
  }

  destroy(todo: Todo): void {
    if (!this.remove(todo)) return;
    this.send(
      `delete “${todo.title}”`,
      async () => {
        if (todo.id === null) return; // its creation was refused: nothing to delete
        try {
          await api('DELETE', `/api/tasks/${encodeURIComponent(todo.id)}`);
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error; // gone already
        }
      },
      () => this.restore([todo]),
    );
  }

  toggleAll(completed: boolean): void {
    const changed = this.todos.filter((todo) => todo.completed !== completed);
    if (changed.length === 0) return;
    for (const todo of changed) todo.completed = completed;
    this.changed();
    this.send(
      completed ? 'mark all as complete' : 'mark all as active',
      async () => {
        await api('POST', '/api/tasks/toggle-all', { done: completed });
      },
      () => {
        for (const todo of changed) todo.completed = !completed;
      },
    );
  }

  clearCompleted(): void {
    const cleared = this.todos.filter((todo) => todo.completed);
    if (cleared.length === 0) return;
    this.todos = this.todos.filter((todo) => !todo.completed);
    this.changed();
    this.send(
      'clear completed',
      async () => {
        await api('POST', '/api/tasks/clear-completed');
      },
      () => this.restore(cleared),
    );
  }

  private sendFor(
    todo: Todo,
    verb: string,
    patch: { title?: string; done?: boolean },
    undo: () => void,
  ): void {
    this.send(
      `${verb} “${todo.title}”`,
      async () => {
        if (todo.id === null) return; // its creation was refused and already undone
        await api('PATCH', `/api/tasks/${encodeURIComponent(todo.id)}`, patch);
      },
      undo,
    );
  }

  /** Queues a request; if the server refuses it, runs `undo` and reports the refusal. */
  private send(what: string, request: () => Promise<void>, undo: () => void): void {
    this.queue = this.queue.then(async () => {
      try {
        await request();
        this.changed();
      } catch (error) {
        undo();
        this.changed();
        this.onRefused(what, error);
      }
    });
  }

  private remove(todo: Todo): boolean {
    const index = this.todos.indexOf(todo);
    if (index < 0) return false;
    this.todos.splice(index, 1);
    this.changed();
    return true;
  }

  private restore(todos: Todo[]): void {
    const missing = todos.filter((todo) => !this.todos.includes(todo));
    this.todos = [...this.todos, ...missing].sort((a, b) => a.key - b.key);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
