import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { TaskEvent } from '@taskit/contracts';
import { mongo } from 'mongoose';
import type { TaskWriteLock } from '../tasks/task-write-lock';
import { EventPublisher } from './event-publisher';
import type { OutboxMetrics } from './outbox-metrics';
import type { OutboxFields } from './outbox';
import type { OutboxSignal } from './outbox-signal';

export interface OutboxRelayOptions {
  /** Documents claimed per pass. */
  batchDocuments: number;
  /** How long a claim keeps other relays away from a document. */
  leaseMs: number;
  /**
   * Pause between passes when the outbox was found empty. This pod's own changes wake the
   * relay at once (OutboxSignal); the poll picks up what other pods left behind (a crash).
   */
  idlePollMs: number;
  /** Backoff after a failed pass (broker down, queue full), doubling up to the maximum. */
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchDocuments: 100,
  leaseMs: 30_000,
  idlePollMs: 1_000,
  minBackoffMs: 250,
  maxBackoffMs: 5_000,
};

type OutboxDocument = OutboxFields & {
  _id: mongo.ObjectId;
  userId: mongo.ObjectId;
  deletedAt?: Date | null;
};
export type TasksCollection = mongo.Collection<OutboxDocument>;
/** A claim on one task document's outbox: `_id` is the task's id. */
export interface OutboxLease {
  _id: mongo.ObjectId;
  /** The pass that holds it (relay id and pass number). */
  owner: string;
  /** The relay (pod) that holds it. */
  relay: string;
  until: Date;
}
export type LeasesCollection = mongo.Collection<OutboxLease>;
export const OUTBOX_LEASES_COLLECTION = 'outbox_leases';
/** Documents settled per hold of a user's write lock (each is one write). */
const SETTLE_DOCUMENTS_PER_LOCK = 25;

export interface RelayPassResult {
  claimed: number;
  published: number;
  failed: number;
}

/** occurredAt (RFC 3339, nanoseconds) in milliseconds. */
function occurredAtMs(event: TaskEvent | undefined): number | undefined {
  const ms = event ? Date.parse(event.occurredAt) : NaN;
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The transactional outbox relay; one runs in every gateway pod.
 *
 * Each pass reads the oldest documents with pending events (`outboxPending`) and claims up
 * to `batchDocuments` of them with a lease per document: a row `{_id: taskId, owner, relay, until}`
 * inserted into the small `outbox_leases` collection (unique `_id`: a duplicate means another
 * pod holds it; an expired lease is removed by whoever passes next). So two pods never publish
 * the same document's events at the same time, and a crashed pod's claims expire. The lease
 * is not a field of the task because FerretDB answers any filter other than `{_id}` with a
 * collection scan: claiming and releasing in the task collection would cost a scan per task.
 *
 * The claimed documents' events are published with confirms (EventPublisher). Then, per
 * user and under that user's TaskWriteLock (which every writer of task documents takes), the
 * documents are read again and each is settled by one write of what is left of its outbox:
 * an emptied tombstone (`deletedAt`) is deleted, nothing adds events to a tombstone; an
 * emptied task gets `outboxPending: false` and loses `outboxSince`. The lock is what makes this safe on FerretDB 1.x, which
 * applies an update by reading, changing and writing back the whole document without a
 * transaction: a relay write racing a user's change would otherwise write back a stale copy
 * and lose that change and its event. A crash anywhere leaves the events in the document and
 * the lease expires: at-least-once, never lost; consumers are idempotent by event time and id.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private pass = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private backoffMs = 0;
  private unsubscribe?: () => void;
  /** A nudge that arrived during a pass: run the next pass without waiting. */
  private nudged = false;

  constructor(
    /** The collections of the current MongoDB connection; throws while there is none. */
    private readonly collections: () => { tasks: TasksCollection; leases: LeasesCollection },
    private readonly publisher: EventPublisher,
    private readonly metrics: OutboxMetrics,
    private readonly lock: TaskWriteLock,
    private readonly signal: OutboxSignal,
    private readonly options: OutboxRelayOptions = DEFAULT_RELAY_OPTIONS,
  ) {}

  onApplicationBootstrap(): void {
    this.unsubscribe = this.signal.onEventsStored(() => this.nudge());
    // Plain index (FerretDB has no partial indexes): the relay's query is a range on it.
    Promise.resolve()
      .then(() => this.tasks.createIndex({ outboxPending: 1, outboxSince: 1 }))
      .catch((error: Error) => this.logger.warn(`outbox index: ${error.message}`));
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.publisher.close();
  }

  /** Starts the next pass now (after a task change stored new events). */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay = this.options.idlePollMs;
      this.nudged = false;
      try {
        if (!this.publisher.isReady) {
          delay = this.nextBackoff();
        } else {
          const result = await this.relayOnce();
          if (result.failed > 0) delay = this.nextBackoff();
          else {
            this.backoffMs = 0;
            if (result.claimed >= this.options.batchDocuments || this.nudged) delay = 0;
          }
        }
      } catch (error) {
        this.logger.warn(`outbox relay pass failed: ${(error as Error).message}`);
        delay = this.nextBackoff();
      }
      if (delay > 0 && !this.stopped) await this.sleep(delay);
    }
  }

  private nextBackoff(): number {
    const { minBackoffMs, maxBackoffMs } = this.options;
    this.backoffMs = Math.min(maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : minBackoffMs);
    return this.backoffMs;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.wake = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private get tasks(): TasksCollection {
    return this.collections().tasks;
  }

  private get leases(): LeasesCollection {
    return this.collections().leases;
  }

  /** One pass: claim, publish, pull what was confirmed, finalize, release. */
  async relayOnce(): Promise<RelayPassResult> {
    const now = new Date();
    const candidates = await this.tasks
      .find({ outboxPending: true }, { projection: { _id: 1 } })
      .sort({ outboxSince: 1 })
      .limit(this.options.batchDocuments * 4)
      .toArray();
    if (candidates.length === 0) return { claimed: 0, published: 0, failed: 0 };

    // Leases live in their own small collection, keyed by task id: inserting one is the
    // claim (a duplicate key means another relay holds it), and every lease query is cheap.
    const ids = candidates.map((c) => c._id);
    // Expired leases, and this relay's own from a pass that could not release them (its
    // passes never overlap): otherwise they would hold those documents until they expire.
    await this.leases.deleteMany({ $or: [{ until: { $lt: now } }, { relay: this.owner }] });
    const held = new Set(
      (await this.leases.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map(
        (lease) => lease._id.toHexString(),
      ),
    );
    const free = ids
      .filter((id) => !held.has(id.toHexString()))
      .slice(0, this.options.batchDocuments);
    if (free.length === 0) return { claimed: 0, published: 0, failed: 0 };
    const token = `${this.owner}:${++this.pass}`;
    const until = new Date(now.getTime() + this.options.leaseMs);
    await this.leases
      .insertMany(
        free.map((_id) => ({ _id, owner: token, relay: this.owner, until })),
        { ordered: false },
      )
      .catch((error: Error & { code?: number; writeErrors?: unknown }) => {
        // Duplicate keys: another relay claimed some of them first.
        if (error.code !== 11000 && !error.writeErrors) throw error;
      });
    const claimedIds = (
      await this.leases.find({ owner: token }, { projection: { _id: 1 } }).toArray()
    ).map((lease) => lease._id);
    if (claimedIds.length === 0) return { claimed: 0, published: 0, failed: 0 };

    try {
      const claimed = await this.tasks
        .find({ _id: { $in: claimedIds } }, { projection: { userId: 1, outbox: 1, deletedAt: 1 } })
        .toArray();
      const published = await Promise.all(claimed.map((doc) => this.publishDocument(doc)));
      const byUser = new Map<string, Map<string, Set<string>>>();
      for (const [i, doc] of claimed.entries()) {
        if (published[i].size === 0) continue;
        const user = doc.userId.toHexString();
        if (!byUser.has(user)) byUser.set(user, new Map());
        byUser.get(user)?.set(doc._id.toHexString(), published[i]);
      }
      await Promise.all([...byUser].map(([user, docs]) => this.removePublished(user, docs)));
      const confirmed = published.reduce((sum, ids) => sum + ids.size, 0);
      const pending = claimed.reduce((sum, doc) => sum + (doc.outbox?.length ?? 0), 0);
      return { claimed: claimed.length, published: confirmed, failed: pending - confirmed };
    } finally {
      await this.leases.deleteMany({ _id: { $in: claimedIds }, owner: token });
    }
  }

  /** Publishes a document's pending events in order; returns the ids the broker confirmed. */
  private async publishDocument(doc: OutboxDocument): Promise<Set<string>> {
    const events = Array.isArray(doc.outbox) ? doc.outbox : [];
    // One channel keeps the document's events in order; confirms arrive in order too.
    const outcomes = await Promise.all(events.map((event) => this.publisher.publish(event)));
    const confirmed = new Set<string>();
    outcomes.forEach((outcome, i) => {
      if (outcome === 'confirmed') {
        confirmed.add(events[i].eventId);
        this.metrics.published.inc();
      } else {
        this.metrics.publishFailures.inc({ reason: outcome });
      }
    });
    return confirmed;
  }

  /**
   * Removes confirmed events from one user's documents, under that user's write lock: with
   * every writer of those documents held off, the documents read here are exactly what is
   * stored, and each one is settled by a single write of its remaining outbox. An emptied
   * tombstone is deleted (nothing adds events to a tombstone); an emptied task loses
   * `outboxPending` and `outboxSince`. One bulkWrite per chunk of documents.
   */
  private async removePublished(
    userId: string,
    /** Confirmed event ids by task id (hex). */
    confirmed: Map<string, Set<string>>,
  ): Promise<void> {
    const ids = [...confirmed.keys()];
    // A few documents per lock hold: the user's own requests wait for the lock meanwhile.
    for (let i = 0; i < ids.length; i += SETTLE_DOCUMENTS_PER_LOCK) {
      const chunk = ids.slice(i, i + SETTLE_DOCUMENTS_PER_LOCK);
      await this.lock.run(userId, () => this.settle(chunk, confirmed));
    }
  }

  private async settle(taskIds: string[], confirmed: Map<string, Set<string>>): Promise<void> {
    const current = await this.tasks
      .find(
        { _id: { $in: taskIds.map((id) => new mongo.ObjectId(id)) } },
        { projection: { outbox: 1, deletedAt: 1 } },
      )
      .toArray();
    const operations: mongo.AnyBulkWriteOperation<OutboxDocument>[] = [];
    for (const doc of current) {
      const published = confirmed.get(doc._id.toHexString()) ?? new Set<string>();
      const outbox = doc.outbox ?? [];
      const remaining = outbox.filter((event) => !published.has(event.eventId));
      if (remaining.length === outbox.length) continue;
      const filter = { _id: doc._id };
      if (remaining.length > 0) {
        operations.push({ updateOne: { filter, update: { $set: { outbox: remaining } } } });
      } else if (doc.deletedAt) {
        operations.push({ deleteOne: { filter } });
      } else {
        operations.push({
          updateOne: {
            filter,
            update: { $set: { outbox: [], outboxPending: false }, $unset: { outboxSince: '' } },
          },
        });
      }
    }
    if (operations.length > 0) await this.tasks.bulkWrite(operations, { ordered: false });
  }

  /** Pending events and the age of the oldest one, for the metrics. */
  async measure(): Promise<{ backlog: number; oldestPendingAgeSeconds: number }> {
    const [count] = await this.tasks
      .aggregate<{ n: number }>([
        { $match: { outboxPending: true } },
        { $unwind: '$outbox' },
        { $count: 'n' },
      ])
      .toArray();
    const oldest = await this.tasks
      .find({ outboxPending: true }, { projection: { outbox: 1, outboxSince: 1 } })
      .sort({ outboxSince: 1 })
      .limit(20)
      .toArray();
    const times = oldest
      .map((doc) => occurredAtMs(doc.outbox?.[0]))
      .filter((t): t is number => t !== undefined);
    const oldestMs = times.length > 0 ? Math.min(...times) : undefined;
    return {
      backlog: count?.n ?? 0,
      oldestPendingAgeSeconds:
        oldestMs === undefined ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000),
    };
  }
}
