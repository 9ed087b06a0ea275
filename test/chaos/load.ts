import { randomBytes } from 'node:crypto';
import { cookieFrom, send, type HttpOutcome } from './http';

/**
 * A steady, bounded load of task writes through the HTTP API: a few simulated users, each
 * sending one request at a time (so a user's writes never race each other) with a pause in
 * between, to whichever gateway pod is next, as a round-robin load balancer would. Every
 * answer is recorded; a 2xx write adds the events docs/api.md promises for it.
 */

export type WriteKind = 'create' | 'complete' | 'rename' | 'delete';
export type OpKind = WriteKind | 'register' | 'login';

export interface OpRecord {
  kind: OpKind;
  user: string;
  pod: string;
  start: number;
  end: number;
  /** HTTP status, or 0 when no response came back. */
  status: number;
  outcome: 'ok' | 'unauthorized' | 'rejected' | 'server_error' | 'dropped' | 'refused';
  /** The error message of a 5xx answer, or the network error of a dropped request. */
  detail?: string;
}

/** A write whose outcome the client cannot know (5xx or no response); resolved afterwards. */
export interface UncertainWrite {
  kind: WriteKind;
  user: SimUser;
  status: number;
  taskId?: string;
  /** create: the title sent; rename: the new title. */
  title?: string;
}

/**
 * The readiness probe of deploy/k8s/base/gateway/deployment.yaml: every 5 s, 3 s timeout, out
 * of the endpoints after 2 failures in a row, back after 1 success.
 */
export const READINESS_PROBE = { periodMs: 5_000, timeoutMs: 3_000, failureThreshold: 2 };

/**
 * The "load balancer" in front of the gateway pods: round robin over the pods whose readiness
 * probe passes, as a Kubernetes Service's endpoints (and the GCLB's health check) follow
 * readiness. With no ready pod it has nowhere to send a request and answers 502 itself, as the
 * GCLB does. A pod that starts terminating leaves at once (`remove`), as the endpoints drop a
 * terminating pod; a new pod enters after its first passing probe.
 */
export class Pods {
  private readonly pods = new Map<string, { ready: boolean; failures: number }>();
  private cursor = 0;
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;

  constructor(urls: string[]) {
    for (const url of urls) this.pods.set(url, { ready: true, failures: 0 });
  }

  get urls(): string[] {
    return [...this.pods.keys()];
  }

  /** The next ready pod, or undefined when none is. */
  next(): string | undefined {
    const ready = [...this.pods].filter(([, pod]) => pod.ready).map(([url]) => url);
    if (ready.length === 0) return undefined;
    this.cursor = (this.cursor + 1) % ready.length;
    return ready[this.cursor];
  }

  get readyCount(): number {
    return [...this.pods.values()].filter((pod) => pod.ready).length;
  }

  add(url: string): void {
    this.pods.set(url, { ready: false, failures: 0 });
    void this.probe(url);
  }

  remove(url: string): void {
    this.pods.delete(url);
  }

  start(): void {
    const round = () => {
      this.probing = Promise.all(this.urls.map((url) => this.probe(url))).then(() => {
        if (this.timer) this.timer = setTimeout(round, READINESS_PROBE.periodMs);
      });
    };
    this.timer = setTimeout(round, READINESS_PROBE.periodMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.probing;
  }

  private async probe(url: string): Promise<void> {
    const passed = await fetch(`${url}/health/ready`, {
      signal: AbortSignal.timeout(READINESS_PROBE.timeoutMs),
    }).then(
      (response) => response.status === 200,
      () => false,
    );
    const pod = this.pods.get(url);
    if (!pod) return;
    if (passed) {
      pod.ready = true;
      pod.failures = 0;
    } else if (++pod.failures >= READINESS_PROBE.failureThreshold) {
      pod.ready = false;
    }
  }
}

/** The balancer's own answer when no gateway is ready. */
const NO_READY_POD: HttpOutcome = {
  kind: 'response',
  status: 502,
  body: { message: 'no ready gateway' },
  setCookie: [],
};

const SESSION_COOKIE = 'taskit.sid';
const PASSWORD = 'chaos horse battery staple';

export interface ExpectedEvent {
  key: string;
  /** When the 2xx answer arrived (ms since the epoch). */
  at: number;
}

export function eventKey(taskId: string, type: string): string {
  return `${taskId} ${type}`;
}

export class SimUser {
  id = '';
  readonly email: string;
  cookie?: string;
  csrf?: string;
  readonly live = new Map<string, { done: boolean }>();
  /** Tasks touched by an uncertain write: their events are neither expected nor surplus. */
  readonly tainted = new Set<string>();
  readonly expected: ExpectedEvent[] = [];
  private counter = 0;

  constructor(
    readonly label: string,
    private readonly load: Load,
  ) {
    this.email = `${label}-${randomBytes(4).toString('hex')}@chaos.example.com`;
  }

  nextTitle(prefix: string): string {
    this.counter += 1;
    return `${prefix} ${this.label} ${this.counter} ${randomBytes(3).toString('hex')}`;
  }

  private expect(taskId: string, type: string, at: number): void {
    this.expected.push({ key: eventKey(taskId, type), at });
  }

  /** Sends one request to the next pod; a refused connection moves on to the next pod. */
  private async call(
    kind: OpKind,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ outcome: HttpOutcome; record: OpRecord }> {
    const start = Date.now();
    let outcome: HttpOutcome = NO_READY_POD;
    let pod = 'balancer';
    for (let attempt = 0; attempt < this.load.pods.readyCount; attempt += 1) {
      const next = this.load.pods.next();
      if (next === undefined) {
        outcome = NO_READY_POD;
        pod = 'balancer';
        break;
      }
      pod = next;
      outcome = await send(pod, method, path, { body, cookie: this.cookie, csrf: this.csrf });
      if (outcome.kind !== 'refused') break;
    }
    const status = outcome.kind === 'response' ? outcome.status : 0;
    const record: OpRecord = {
      kind,
      user: this.label,
      pod,
      start,
      end: Date.now(),
      status,
      outcome:
        outcome.kind === 'refused'
          ? 'refused'
          : outcome.kind === 'dropped'
            ? 'dropped'
            : status >= 500
              ? 'server_error'
              : status === 401
                ? 'unauthorized'
                : status >= 400
                  ? 'rejected'
                  : 'ok',
    };
    if (outcome.kind === 'dropped') record.detail = outcome.code;
    else if (status >= 500) {
      const message = (outcome as { body: { message?: unknown } }).body?.message;
      record.detail = `${status} ${typeof message === 'string' ? message : ''}`;
    }
    this.load.record(record);
    if (record.outcome === 'unauthorized') this.cookie = undefined;
    return { outcome, record };
  }

  private adoptSession(outcome: HttpOutcome): void {
    if (outcome.kind !== 'response') return;
    const cookie = cookieFrom(outcome.setCookie, SESSION_COOKIE);
    if (cookie) this.cookie = cookie;
    const body = outcome.body as { csrfToken?: string; user?: { id?: string } };
    if (body?.csrfToken) this.csrf = body.csrfToken;
    if (body?.user?.id) this.id = body.user.id;
  }

  /** Registers the account (retrying while a dependency is down). */
  async register(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const { outcome, record } = await this.call('register', 'POST', '/api/auth/register', {
        email: this.email,
        password: PASSWORD,
      });
      if (record.status === 201) {
        this.adoptSession(outcome);
        return;
      }
      if (record.status === 409) return this.login();
      await sleep(200);
    }
    throw new Error(`could not register ${this.email}`);
  }

  async login(): Promise<void> {
    const { outcome, record } = await this.call('login', 'POST', '/api/auth/login', {
      email: this.email,
      password: PASSWORD,
    });
    if (record.status === 200) this.adoptSession(outcome);
  }

  private uncertain(write: Omit<UncertainWrite, 'user'>): void {
    if (write.taskId) {
      this.tainted.add(write.taskId);
      this.live.delete(write.taskId);
    }
    this.load.uncertain.push({ ...write, user: this });
  }

  /** One step of this user's script: a login when the session is gone, else one write. */
  async step(): Promise<void> {
    if (!this.cookie) {
      await this.login();
      return;
    }
    const open = [...this.live].filter(([, task]) => !task.done).map(([id]) => id);
    const all = [...this.live.keys()];
    const roll = Math.random();
    if (all.length < 3 || roll < 0.35) {
      const title = this.nextTitle('task');
      const { outcome, record } = await this.call('create', 'POST', '/api/tasks', { title });
      if (record.outcome === 'ok') {
        const id = (outcome as { body: { id: string } }).body.id;
        this.live.set(id, { done: false });
        this.expect(id, 'task.created', record.end);
      } else if (record.outcome === 'server_error' || record.outcome === 'dropped') {
        this.uncertain({ kind: 'create', status: record.status, title });
      }
      return;
    }
    if (open.length > 0 && roll < 0.7) {
      const id = pick(open);
      const { record } = await this.call('complete', 'PATCH', `/api/tasks/${id}`, { done: true });
      if (record.outcome === 'ok') {
        this.live.set(id, { done: true });
        this.expect(id, 'task.completed', record.end);
      } else if (record.outcome === 'server_error' || record.outcome === 'dropped') {
        this.uncertain({ kind: 'complete', status: record.status, taskId: id });
      }
      return;
    }
    if (roll < 0.85) {
      const id = pick(all);
      const title = this.nextTitle('renamed');
      const { record } = await this.call('rename', 'PATCH', `/api/tasks/${id}`, { title });
      if (record.outcome === 'ok') this.expect(id, 'task.updated', record.end);
      else if (record.outcome === 'server_error' || record.outcome === 'dropped') {
        this.uncertain({ kind: 'rename', status: record.status, taskId: id, title });
      }
      return;
    }
    const id = pick(all);
    const { record } = await this.call('delete', 'DELETE', `/api/tasks/${id}`);
    if (record.outcome === 'ok') {
      this.live.delete(id);
      this.expect(id, 'task.deleted', record.end);
    } else if (record.outcome === 'server_error' || record.outcome === 'dropped') {
      this.uncertain({ kind: 'delete', status: record.status, taskId: id });
    }
  }
}

function pick<T>(items: T[]): T {
  return items[Math.floor(Math.random() * items.length)];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class Load {
  readonly ops: OpRecord[] = [];
  readonly uncertain: UncertainWrite[] = [];
  readonly users: SimUser[] = [];
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    readonly pods: Pods,
    private readonly pauseMs: number,
  ) {}

  record(op: OpRecord): void {
    this.ops.push(op);
  }

  async addUsers(label: string, count: number): Promise<void> {
    const users = Array.from({ length: count }, (_, i) => new SimUser(`${label}${i}`, this));
    await Promise.all(users.map((user) => user.register()));
    this.users.push(...users);
  }

  start(): void {
    this.running = Promise.all(
      this.users.map(async (user) => {
        while (!this.stopping) {
          await user.step();
          await sleep(this.pauseMs);
        }
      }),
    ).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
  }
}
