import type { TaskEvent } from '@taskit/contracts';
import { Registry } from 'prom-client';
import { deliver, SETTLE_BATCH, SETTLE_CONCURRENCY } from './deliver';
import type { EventPublisher, PublishOutcome } from './event-publisher';
import type { OutboxLeases } from './outbox-leases';
import { OutboxMetrics } from './outbox-metrics';
import { DEFAULT_RELAY_OPTIONS, OutboxRelay } from './outbox-relay';
import { SettleQueue } from './settle-queue';
import type { OutboxStore, PendingDocument } from './outbox.port';

function event(id: string, taskId = 't1'): TaskEvent {
  return {
    eventId: id,
    type: 'task.created',
    taskId,
    userId: 'u1',
    occurredAt: '2026-12-02T10:00:00.000000001Z',
    version: 1,
  };
}

/** A store whose documents are a map; records each settle. */
class FakeStore implements OutboxStore {
  readonly documents = new Map<string, TaskEvent[]>();
  readonly settled: { id: string; published: string[] }[] = [];
  private listener?: (document: PendingDocument) => void;
  failSettle = false;
  recordedBefore?: Date;
  /** While set, settles wait for it (a slow database). */
  settlesHeld?: Promise<void>;
  /** Settles under way now, and the most there were at once. */
  settling = 0;
  mostSettling = 0;
  /** The documents of each settle, in order. */
  readonly batches: string[][] = [];

  store(id: string, events: TaskEvent[]) {
    this.documents.set(id, [...(this.documents.get(id) ?? []), ...events]);
    this.listener?.({ id, events });
  }
  onStored(listener: (document: PendingDocument) => void) {
    this.listener = listener;
    return () => (this.listener = undefined);
  }
  pendingIds(recordedBefore: Date, limit: number) {
    this.recordedBefore = recordedBefore;
    return Promise.resolve([...this.documents.keys()].slice(0, limit));
  }
  pendingEvents(ids: readonly string[]) {
    return Promise.resolve(
      ids
        .filter((id) => this.documents.has(id))
        .map((id) => ({ id, events: this.documents.get(id)! })),
    );
  }
  async settle(documents: readonly PendingDocument[]) {
    this.settling += 1;
    this.mostSettling = Math.max(this.mostSettling, this.settling);
    try {
      await this.settlesHeld;
    } finally {
      this.settling -= 1;
    }
    this.batches.push(documents.map((document) => document.id));
    if (this.failSettle) throw new Error('settle failed');
    for (const { id, events } of documents) {
      const published = events.map((e) => e.eventId);
      this.settled.push({ id, published });
      const remaining = (this.documents.get(id) ?? []).filter(
        (e) => !published.includes(e.eventId),
      );
      if (remaining.length > 0) this.documents.set(id, remaining);
      else this.documents.delete(id);
    }
  }
  backlog() {
    return Promise.resolve({ events: 0, oldestPendingAgeSeconds: 0 });
  }
}

class FakePublisher {
  isReady = true;
  readonly published: string[] = [];
  outcomeFor: (event: TaskEvent) => PublishOutcome = () => 'confirmed';
  /** While set, confirms wait for it (a slow broker). */
  confirmsHeld?: Promise<void>;
  async publish(event: TaskEvent): Promise<PublishOutcome> {
    const outcome = this.outcomeFor(event);
    if (outcome === 'confirmed') this.published.push(event.eventId);
    await this.confirmsHeld;
    return outcome;
  }
  close() {
    return Promise.resolve();
  }
}

/** Claims like two relays sharing one lease table. */
class FakeLeases {
  readonly heldByOthers = new Set<string>();
  released = 0;
  forPass() {
    return {
      claim: (ids: string[]) => Promise.resolve(ids.filter((id) => !this.heldByOthers.has(id))),
      release: () => {
        this.released += 1;
        return Promise.resolve();
      },
    };
  }
}

function counter(registry: Registry, name: string, labels?: Record<string, string>) {
  const metric = registry.getSingleMetric(name) as unknown as {
    hashMap: Record<string, { value: number; labels: Record<string, string> }>;
  };
  return Object.values(metric.hashMap)
    .filter((v) => !labels || Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/** A gauge as a scrape reads it (its collect callback runs). */
async function gauge(registry: Registry, name: string): Promise<number | undefined> {
  const { values } = await registry.getSingleMetric(name)!.get();
  return values[0]?.value;
}

const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
};

/** The store's settles, as many and as large as the relay's: failures reported to `failed`. */
function settleQueue(store: FakeStore, failed: (id: string) => void = () => undefined) {
  return new SettleQueue(
    (documents) =>
      store.settle(documents).catch(() => documents.forEach((document) => failed(document.id))),
    { concurrency: SETTLE_CONCURRENCY, batch: SETTLE_BATCH },
  );
}

describe('deliver', () => {
  it('settles exactly the confirmed events of each document', async () => {
    const store = new FakeStore();
    store.documents.set('t1', [event('a'), event('b')]);
    const outcomes: Record<string, PublishOutcome> = { a: 'confirmed', b: 'nacked' };
    const result = await deliver([{ id: 't1', events: store.documents.get('t1') ?? [] }], {
      publish: (e) => Promise.resolve(outcomes[e.eventId]),
      outcome: () => undefined,
      settles: settleQueue(store),
    });
    expect(result).toEqual({ published: 1, failed: 1 });
    expect(store.settled).toEqual([{ id: 't1', published: ['a'] }]);
    expect(store.documents.get('t1')?.map((e) => e.eventId)).toEqual(['b']);
  });

  it('does not settle a document none of whose events was confirmed', async () => {
    const store = new FakeStore();
    await deliver([{ id: 't1', events: [event('a')] }], {
      publish: () => Promise.resolve('timeout'),
      outcome: () => undefined,
      settles: settleQueue(store),
    });
    expect(store.settled).toEqual([]);
  });

  it('reports a failed settle and leaves the events for a later publish', async () => {
    const store = new FakeStore();
    store.failSettle = true;
    store.documents.set('t1', [event('a')]);
    const failures: string[] = [];
    const result = await deliver([{ id: 't1', events: [event('a')] }], {
      publish: () => Promise.resolve('confirmed'),
      outcome: () => undefined,
      settles: settleQueue(store, (id) => failures.push(id)),
    });
    expect(result.published).toBe(1);
    expect(failures).toEqual(['t1']);
    expect(store.documents.has('t1')).toBe(true);
  });
});

/**
 * For tests of a sweep beside the fast path, run by hand (`relay.sweep()`): the fake store's
 * sweep query ignores the grace, so the sweep finds every document that is not on the fast path.
 */
const SWEEP_BESIDE_FAST_PATH = { sweepIntervalMs: 60_000 };

describe('OutboxRelay', () => {
  let store: FakeStore;
  let publisher: FakePublisher;
  let leases: FakeLeases;
  let registry: Registry;
  let relay: OutboxRelay;

  function start(options: Partial<typeof DEFAULT_RELAY_OPTIONS> = {}) {
    relay = new OutboxRelay(
      store,
      publisher as unknown as EventPublisher,
      new OutboxMetrics(registry, () => store.backlog()),
      leases as unknown as OutboxLeases,
      { ...DEFAULT_RELAY_OPTIONS, minBackoffMs: 5, maxBackoffMs: 20, ...options },
    );
    relay.onApplicationBootstrap();
  }

  beforeEach(() => {
    store = new FakeStore();
    publisher = new FakePublisher();
    leases = new FakeLeases();
    registry = new Registry();
  });

  afterEach(async () => {
    await relay.beforeApplicationShutdown();
  });

  it('fast path: publishes and settles what this pod stored, without a query', async () => {
    start({ sweepIntervalMs: 60_000 });
    const pending = jest.spyOn(store, 'pendingIds');
    await until(() => pending.mock.calls.length === 1); // the first sweep at start
    store.store('t1', [event('a')]);
    store.store('t2', [event('b', 't2')]);
    await until(() => store.documents.size === 0);
    expect(publisher.published.sort()).toEqual(['a', 'b']);
    expect(pending).toHaveBeenCalledTimes(1);
    expect(counter(registry, 'taskit_outbox_events_published_total')).toBe(2);
  });

  it('fast path: publishes what arrives while earlier events are being settled', async () => {
    let release = () => undefined as void;
    store.settlesHeld = new Promise<void>((resolve) => (release = resolve));
    start({ sweepIntervalMs: 60_000 });
    store.store('t1', [event('a')]);
    await until(() => publisher.published.length === 1);
    store.store('t2', [event('b', 't2')]);
    await until(() => publisher.published.length === 2);
    expect(store.settled).toEqual([]);
    release();
    await until(() => store.documents.size === 0);
  });

  it('fast path: settles the events of one document that wait together in one write', async () => {
    let release = () => undefined as void;
    store.settlesHeld = new Promise<void>((resolve) => (release = resolve));
    start({ sweepIntervalMs: 60_000 });
    for (let i = 0; i < SETTLE_CONCURRENCY; i++)
      store.store(`busy${i}`, [event(`busy${i}`, `busy${i}`)]);
    await until(() => store.settling === SETTLE_CONCURRENCY); // every settle slot is taken
    store.store('t1', [event('created')]);
    store.store('t1', [event('completed')]);
    await until(() => publisher.published.length === SETTLE_CONCURRENCY + 2);
    release();
    await until(() => store.documents.size === 0);
    expect(store.settled.filter((s) => s.id === 't1')).toEqual([
      { id: 't1', published: ['created', 'completed'] },
    ]);
  });

  it('fast path: publishes at most maxSettling documents ahead of their settles', async () => {
    let release = () => undefined as void;
    store.settlesHeld = new Promise<void>((resolve) => (release = resolve));
    start({ sweepIntervalMs: 60_000, maxSettling: 2 });
    for (const id of ['t1', 't2', 't3']) store.store(id, [event(id, id)]);
    await until(() => publisher.published.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(publisher.published).toEqual(['t1', 't2']);
    expect(await gauge(registry, 'taskit_outbox_settling_documents')).toBe(2);
    expect(await gauge(registry, 'taskit_outbox_settling_documents_limit')).toBe(2);
    release();
    await until(() => store.documents.size === 0);
    expect(publisher.published).toEqual(['t1', 't2', 't3']);
    expect(await gauge(registry, 'taskit_outbox_settling_documents')).toBe(0);
  });

  it('fast path and sweep together run SETTLE_CONCURRENCY settles at once, each of what waits, up to SETTLE_BATCH documents', async () => {
    let release = () => undefined as void;
    store.settlesHeld = new Promise<void>((resolve) => (release = resolve));
    start(SWEEP_BESIDE_FAST_PATH);
    for (let i = 0; i < SETTLE_CONCURRENCY; i++)
      store.store(`busy${i}`, [event(`b${i}`, `busy${i}`)]);
    await until(() => store.settling === SETTLE_CONCURRENCY);
    const waiting = 2 * SETTLE_BATCH + 1;
    for (let i = 0; i < waiting - 3; i++) store.store(`new${i}`, [event(`n${i}`, `new${i}`)]);
    for (const id of ['old1', 'old2', 'old3']) store.documents.set(id, [event(id, id)]);
    const swept = relay.sweep();
    await until(() => publisher.published.length === SETTLE_CONCURRENCY + waiting);
    expect(store.settling).toBe(SETTLE_CONCURRENCY);
    release();
    await swept;
    await until(() => store.documents.size === 0);
    expect(store.mostSettling).toBe(SETTLE_CONCURRENCY);
    // The first settles took one document each; the rest went in as few as the batch allows.
    expect(store.batches.map((batch) => batch.length)).toEqual([
      ...Array<number>(SETTLE_CONCURRENCY).fill(1),
      SETTLE_BATCH,
      SETTLE_BATCH,
      1,
    ]);
  });

  it('shutdown waits for the settles of what was published', async () => {
    let release = () => undefined as void;
    store.settlesHeld = new Promise<void>((resolve) => (release = resolve));
    start({ sweepIntervalMs: 60_000 });
    store.store('t1', [event('a')]);
    await until(() => publisher.published.length === 1);
    const stopped = relay.beforeApplicationShutdown();
    setTimeout(release, 20);
    await stopped;
    expect(store.settled).toEqual([{ id: 't1', published: ['a'] }]);
  });

  it('fast path: waits while the broker is away, then publishes', async () => {
    publisher.isReady = false;
    start({ sweepIntervalMs: 60_000 });
    store.store('t1', [event('a')]);
    await new Promise((r) => setTimeout(r, 50));
    expect(publisher.published).toEqual([]);
    publisher.isReady = true;
    await until(() => store.documents.size === 0);
  });

  it('sweep: while the broker is away, looks again after readyPollMs, not a growing backoff', async () => {
    start({ sweepIntervalMs: 60_000, readyPollMs: 7 });
    await relay.beforeApplicationShutdown();
    publisher.isReady = false;
    store.documents.set('t1', [event('a')]);
    expect([await relay.sweep(), await relay.sweep(), await relay.sweep()]).toEqual([7, 7, 7]);
    publisher.isReady = true;
    await relay.sweep();
    expect(publisher.published).toEqual(['a']);
  });

  it('fast path: delivers its documents however long they waited; its sweep leaves them', async () => {
    publisher.isReady = false;
    start({ sweepIntervalMs: 60_000, sweepGraceMs: 20, readyPollMs: 5 });
    store.store('t1', [event('a')]);
    await new Promise((r) => setTimeout(r, 60)); // three graces
    publisher.isReady = true;
    await new Promise((r) => setTimeout(r, 30)); // the fast path looked again
    await relay.sweep();
    await until(() => store.documents.size === 0);
    expect(publisher.published).toEqual(['a']);
    expect(counter(registry, 'taskit_outbox_swept_documents_total')).toBe(0);
  });

  it('fast path: holds at most maxQueued documents; its sweep takes the rest', async () => {
    publisher.isReady = false;
    start({ sweepIntervalMs: 60_000, maxQueued: 2, readyPollMs: 5 });
    store.store('t1', [event('a')]);
    store.store('t2', [event('b', 't2')]);
    store.store('t3', [event('c', 't3')]);
    publisher.isReady = true; // the sweep, polling while the broker was away, runs at once
    await until(() => store.documents.size === 0);
    expect(counter(registry, 'taskit_outbox_swept_documents_total')).toBe(1);
    expect([...publisher.published].sort()).toEqual(['a', 'b', 'c']);
  });

  it('sweep: leaves a document the fast path is still delivering (no republish)', async () => {
    let confirm = () => undefined as void;
    publisher.confirmsHeld = new Promise<void>((resolve) => (confirm = resolve));
    start(SWEEP_BESIDE_FAST_PATH);
    store.store('t1', [event('a')]);
    await until(() => publisher.published.length === 1);
    await relay.sweep();
    confirm();
    await until(() => store.documents.size === 0);
    expect(publisher.published).toEqual(['a']);
    expect(counter(registry, 'taskit_outbox_swept_documents_total')).toBe(0);
  });

  it('sweep: publishes pending documents older than the grace that it could claim', async () => {
    start({ sweepIntervalMs: 60_000, sweepGraceMs: 5_000 });
    await relay.beforeApplicationShutdown(); // only the explicit sweep below
    store.documents.set('t1', [event('a')]);
    store.documents.set('t2', [event('b', 't2')]);
    leases.heldByOthers.add('t2');
    const before = Date.now();
    await relay.sweep();
    expect(store.recordedBefore!.getTime()).toBeLessThanOrEqual(before - 5_000 + 50);
    expect(publisher.published).toEqual(['a']);
    expect(store.documents.has('t2')).toBe(true);
    expect(leases.released).toBe(1);
    expect(counter(registry, 'taskit_outbox_swept_documents_total')).toBe(1);
  });

  it('sweep: when another pod holds every pending document, looks again after a quarter interval', async () => {
    start({ sweepIntervalMs: 1_000 });
    await relay.beforeApplicationShutdown();
    store.documents.set('t1', [event('a')]);
    leases.heldByOthers.add('t1');
    expect(await relay.sweep()).toBe(250);
    expect(publisher.published).toEqual([]);
  });

  it('sweep: backs off after a failed publish, doubling up to the maximum, and counts the reason', async () => {
    // An interval below the backoff, so that the delays the sweep returns are the backoff's.
    start({ sweepIntervalMs: 1, minBackoffMs: 5, maxBackoffMs: 20 });
    await relay.beforeApplicationShutdown();
    store.documents.set('t1', [event('a')]);
    publisher.outcomeFor = () => 'nacked';
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) delays.push(await relay.sweep());
    expect(delays).toEqual([5, 10, 20, 20]);
    expect(counter(registry, 'taskit_outbox_publish_failures_total', { reason: 'nacked' })).toBe(4);
    expect(store.documents.has('t1')).toBe(true);
    publisher.outcomeFor = () => 'confirmed';
    expect(await relay.sweep()).toBe(1);
    expect(store.documents.size).toBe(0);
  });

  it('sweep: runs again at once while it finds full batches', async () => {
    start({ sweepIntervalMs: 1_000, batchDocuments: 2 });
    await relay.beforeApplicationShutdown();
    for (const id of ['t1', 't2', 't3']) store.documents.set(id, [event(`e-${id}`, id)]);
    expect(await relay.sweep()).toBe(0);
    expect(await relay.sweep()).toBe(1_000);
    expect(store.documents.size).toBe(0);
  });
});
