import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import {
  deliver,
  publishDocuments,
  SETTLE_BATCH,
  SETTLE_CONCURRENCY,
  type DeliveryResult,
} from './deliver';
import { EventPublisher, type PublishOutcome } from './event-publisher';
import { OutboxLeases } from './outbox-leases';
import { OutboxMetrics } from './outbox-metrics';
import {
  OUTBOX_STORE,
  type OutboxEntry,
  type OutboxStore,
  type PendingDocument,
} from './outbox.port';
import { SettleQueue } from './settle-queue';

export interface OutboxRelayOptions {
  /** Documents per publish round. */
  batchDocuments: number;
  /** How often the sweep looks for documents that no fast path took care of. */
  sweepIntervalMs: number;
  /**
   * How old a pending document must be before sweeps look at it (a crashed pod's, a failed
   * publish's). A pod's own sweep leaves what its fast path holds, however long it waited:
   * handing late documents to the sweep cost the database far more per document (the sweep
   * reads every pending document, twice per hundred, and writes leases), so a fast path that
   * fell behind fell further behind (docs/adr/settles-behind-the-publishes.md).
   */
  sweepGraceMs: number;
  /** How long a sweep's claim keeps other relays away from a document. */
  leaseMs: number;
  /** Fast-path documents held in memory at most; the sweep finds the rest. */
  maxQueued: number;
  /**
   * How far the fast path's publishes may run ahead of its settles, in documents published and
   * not yet settled; past the bound, publishing waits. It bounds memory, not latency: every
   * event behind a full settle queue waits for settles, so the bound must outlast the slow
   * stretches the settles have (docs/event-pipeline.md, Delivery guarantees). Settles later
   * than the grace let another pod's sweep publish those events again, which the consumers
   * absorb.
   */
  maxSettling: number;
  /**
   * While the broker connection is down, how often both paths look again. Readiness is an
   * in-memory flag, so this costs nothing and the backlog starts draining right after the
   * broker returns instead of after a backoff of up to `maxBackoffMs`.
   */
  readyPollMs: number;
  /** Backoff after a failed publish (nack, return, timeout), doubling up to the maximum. */
  minBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchDocuments: 100,
  sweepIntervalMs: 1_000,
  sweepGraceMs: 5_000,
  leaseMs: 30_000,
  maxQueued: 10_000,
  // Several seconds of settling at the rate the settles keep up under load on the local stack;
  // with 500 every event waited seconds in four of six runs
  // (docs/adr/settles-behind-the-publishes.md).
  maxSettling: 2_000,
  readyPollMs: 100,
  minBackoffMs: 250,
  maxBackoffMs: 5_000,
};

export const OUTBOX_RELAY_OPTIONS = Symbol('OUTBOX_RELAY_OPTIONS');

/**
 * The transactional outbox relay; one runs in every gateway pod. Two paths, no scan:
 * - fast path: the tasks module tells this pod's relay of each document it just wrote, with
 *   its events (OutboxStore.onStored); the relay publishes them at once and settles them
 *   behind its publishes (SettleQueue);
 * - sweep: every `sweepIntervalMs`, an indexed query for documents still pending after
 *   `sweepGraceMs` (a pod crashed, a publish failed), claimed with leases (OutboxLeases).
 * Publishing waits for the broker's confirm; settling removes exactly the confirmed events. A
 * crash anywhere leaves the events in their document: at-least-once, never lost; consumers
 * are idempotent by event time and id.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private readonly queue: PendingDocument[] = [];
  /** Documents this pod's fast path has queued or is delivering: its own sweep leaves them. */
  private readonly onFastPath = new Map<string, number>();
  private stopped = false;
  private unsubscribe?: () => void;
  private draining?: Promise<void>;
  private sweeping?: Promise<void>;
  private sweepTimer?: NodeJS.Timeout;
  private drainBackoffMs = 0;
  private sweepBackoffMs = 0;
  private wake?: () => void;
  private readonly settles = new SettleQueue(
    (documents) => this.store.settle(documents).catch((error: unknown) => this.settleFailed(error)),
    { concurrency: SETTLE_CONCURRENCY, batch: SETTLE_BATCH },
  );

  constructor(
    @Inject(OUTBOX_STORE) private readonly store: OutboxStore,
    private readonly publisher: EventPublisher,
    private readonly metrics: OutboxMetrics,
    private readonly leases: OutboxLeases,
    @Inject(OUTBOX_RELAY_OPTIONS) private readonly options: OutboxRelayOptions,
  ) {
    metrics.countSettling(() => this.settles.size, options.maxSettling);
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.store.onStored((document) => this.enqueue(document));
    this.scheduleSweep(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.sweepTimer);
    this.wake?.();
    await Promise.all([this.draining, this.sweeping]);
    await this.settles.below(1);
    await this.publisher.close();
  }

  private enqueue(document: PendingDocument): void {
    if (this.stopped || this.queue.length >= this.options.maxQueued) return;
    this.queue.push(document);
    this.onFastPath.set(document.id, (this.onFastPath.get(document.id) ?? 0) + 1);
    // The drain serves the documents of many requests: it runs outside the trace of the one
    // that started it (each publish span continues its own event's stored traceparent).
    this.draining ??= context
      .with(ROOT_CONTEXT, () => this.drain())
      .finally(() => (this.draining = undefined));
  }

  private leaveFastPath(documents: PendingDocument[]): void {
    for (const { id } of documents) {
      const count = (this.onFastPath.get(id) ?? 1) - 1;
      if (count > 0) this.onFastPath.set(id, count);
      else this.onFastPath.delete(id);
    }
  }

  private async drain(): Promise<void> {
    try {
      await this.drainQueue();
    } finally {
      // Stopped: what is left stays in its documents for the next relay.
      this.leaveFastPath(this.queue.splice(0));
    }
  }

  /**
   * Publishes what this pod stored, oldest first, and hands each confirmed document to the
   * settle queue without waiting for its write: the next batch goes out while earlier ones are
   * being settled.
   */
  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      if (!this.publisher.isReady) {
        await this.sleep(this.options.readyPollMs);
        continue;
      }
      if (this.settles.size >= this.options.maxSettling) {
        await this.settles.below(this.options.maxSettling);
      }
      if (this.stopped) return;
      const room = Math.min(
        this.options.batchDocuments,
        this.options.maxSettling - this.settles.size,
      );
      const batch = this.queue.splice(0, room);
      const { confirmed, failed } = await publishDocuments(batch, {
        publish: (event) => this.publisher.publish(event),
        outcome: (outcome, entry) => this.countOutcome(outcome, entry),
      });
      batch.forEach((document, i) => {
        // What failed stays in its document: the sweep publishes it after the grace.
        if (confirmed[i].events.length === 0) this.leaveFastPath([document]);
        else this.settles.add(confirmed[i], () => this.leaveFastPath([document]));
      });
      this.drainBackoffMs = failed > 0 ? this.nextBackoff(this.drainBackoffMs) : 0;
      if (this.drainBackoffMs > 0) await this.sleep(this.drainBackoffMs);
    }
  }

  private scheduleSweep(delayMs: number): void {
    if (this.stopped) return;
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweep()
        .then((next) => this.scheduleSweep(next))
        .finally(() => (this.sweeping = undefined));
    }, delayMs);
  }

  /** One sweep pass; returns the delay until the next. */
  async sweep(): Promise<number> {
    try {
      if (!this.publisher.isReady) return this.options.readyPollMs;
      const recordedBefore = new Date(Date.now() - this.options.sweepGraceMs);
      const found = await this.store.pendingIds(recordedBefore, this.options.batchDocuments);
      const candidates = found.filter((id) => !this.onFastPath.has(id));
      if (candidates.length === 0) {
        this.sweepBackoffMs = 0;
        return this.options.sweepIntervalMs;
      }
      const claims = this.leases.forPass();
      try {
        // Claimed before read: events another relay settled before the claim are not read.
        const claimed = await claims.claim(candidates);
        const documents = (await this.store.pendingEvents(claimed)).filter(
          (document) => !this.onFastPath.has(document.id),
        );
        this.metrics.swept.inc(documents.length);
        const result = await this.deliver(documents);
        if (result.failed > 0) return this.sweepFailed();
        this.sweepBackoffMs = 0;
        // Another pod's sweep holds all of them: look again soon, without querying in a loop.
        if (claimed.length === 0) return this.options.sweepIntervalMs / 4;
        return found.length >= this.options.batchDocuments ? 0 : this.options.sweepIntervalMs;
      } finally {
        await claims.release();
      }
    } catch (error) {
      this.logger.warn(`outbox sweep failed: ${(error as Error).message}`);
      return this.sweepFailed();
    }
  }

  private deliver(documents: PendingDocument[]): Promise<DeliveryResult> {
    return deliver(documents, {
      publish: (event) => this.publisher.publish(event),
      outcome: (outcome, entry) => this.countOutcome(outcome, entry),
      settles: this.settles,
    });
  }

  private countOutcome(outcome: PublishOutcome, entry: OutboxEntry): void {
    if (outcome === 'confirmed') {
      this.metrics.published.inc();
      this.metrics.publishLag.observe((Date.now() - Date.parse(entry.occurredAt)) / 1000);
    } else this.metrics.publishFailures.inc({ reason: outcome });
  }

  private settleFailed(error: unknown): void {
    this.logger.warn(`${String(error)}; their events are published again`);
  }

  private sweepFailed(): number {
    this.sweepBackoffMs = this.nextBackoff(this.sweepBackoffMs);
    return Math.max(this.sweepBackoffMs, this.options.sweepIntervalMs);
  }

  private nextBackoff(current: number): number {
    const { minBackoffMs, maxBackoffMs } = this.options;
    return Math.min(maxBackoffMs, current ? current * 2 : minBackoffMs);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
