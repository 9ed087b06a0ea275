import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OutboxBacklog } from './outbox.port';

export type PublishFailureReason = 'nacked' | 'returned' | 'timeout' | 'disconnected';

export interface BacklogSampling {
  /** How often the backlog is measured in the background. */
  intervalMs: number;
  /** A measurement that takes longer is abandoned: the gauges keep their last values. */
  timeoutMs: number;
}

export const DEFAULT_BACKLOG_SAMPLING: BacklogSampling = { intervalMs: 5_000, timeoutMs: 2_000 };

/**
 * The relay's metrics. The backlog gauges are measured in the background, never at scrape
 * time, so a scrape answers at once whatever the database does; the age of the last good
 * measurement is a gauge of its own, so a stalled database shows as a growing age.
 */
export class OutboxMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly published: Counter;
  readonly publishFailures: Counter<'reason'>;
  readonly swept: Counter;
  readonly publishLag: Histogram;
  readonly backlog: Gauge;
  readonly oldestPendingAge: Gauge;
  /** The relay's documents published and not yet settled, read at scrape time. */
  private settling: () => number = () => 0;
  private readonly settlingLimit: Gauge;
  /** When the backlog was last measured (ms since the epoch). */
  private readonly measured: { at?: number } = {};
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** A measurement still running (a stalled database): the next waits for it, none piles up. */
  private measuring?: Promise<OutboxBacklog>;

  constructor(
    registry: Registry,
    private readonly measure: () => Promise<OutboxBacklog>,
    private readonly sampling: BacklogSampling = DEFAULT_BACKLOG_SAMPLING,
  ) {
    this.published = new Counter({
      name: 'taskit_outbox_events_published_total',
      help: 'Task events published to RabbitMQ and confirmed by the broker',
      registers: [registry],
    });
    this.publishFailures = new Counter({
      name: 'taskit_outbox_publish_failures_total',
      help: 'Publishes that failed and stay in the outbox for a later retry, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    // The first hop of the worker's taskit_worker_event_lag_seconds: the two histograms side by
    // side say whether a stale event waited in the outbox or after the broker.
    this.publishLag = new Histogram({
      name: 'taskit_outbox_event_publish_lag_seconds',
      help: "Seconds from an event's occurredAt to the broker's confirm of its publish",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.swept = new Counter({
      name: 'taskit_outbox_swept_documents_total',
      help: 'Documents the sweep published because no fast path had (a crashed pod, a failed publish)',
      registers: [registry],
    });
    this.backlog = new Gauge({
      name: 'taskit_outbox_backlog_events',
      help: 'Task events recorded but not yet confirmed by RabbitMQ (last background measurement)',
      registers: [registry],
    });
    this.oldestPendingAge = new Gauge({
      name: 'taskit_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest task event still waiting in the outbox (0 when empty)',
      registers: [registry],
    });
    const settling = () => this.settling();
    new Gauge({
      name: 'taskit_outbox_settling_documents',
      help: "Documents whose events RabbitMQ confirmed, waiting to be removed from the outbox; at the relay's bound (maxSettling), publishing waits",
      registers: [registry],
      collect() {
        this.set(settling());
      },
    });
    this.settlingLimit = new Gauge({
      name: 'taskit_outbox_settling_documents_limit',
      help: "The relay's bound on taskit_outbox_settling_documents (maxSettling)",
      registers: [registry],
    });
    const measured = this.measured;
    new Gauge({
      name: 'taskit_outbox_backlog_measurement_age_seconds',
      help: 'Seconds since the backlog gauges were last measured (grows while MongoDB does not answer)',
      registers: [registry],
      collect() {
        this.set(measured.at === undefined ? -1 : (Date.now() - measured.at) / 1000);
      },
    });
  }

  /** The relay tells where its settle queue's size is read, and the bound it keeps it under. */
  countSettling(size: () => number, limit: number): void {
    this.settling = size;
    this.settlingLimit.set(limit);
  }

  onApplicationBootstrap(): void {
    void this.sample();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
  }

  /** One measurement, then the next after the interval; a slow one is abandoned, not awaited. */
  async sample(): Promise<void> {
    let timeout: NodeJS.Timeout | undefined;
    try {
      this.measuring ??= this.measure().finally(() => (this.measuring = undefined));
      const backlog = await Promise.race([
        this.measuring,
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error('timeout')), this.sampling.timeoutMs);
        }),
      ]);
      this.backlog.set(backlog.events);
      this.oldestPendingAge.set(backlog.oldestPendingAgeSeconds);
      this.measured.at = Date.now();
    } catch {
      // The gauges keep their last values; the measurement age tells how old they are.
    } finally {
      clearTimeout(timeout);
      if (!this.stopped) {
        this.timer = setTimeout(() => void this.sample(), this.sampling.intervalMs);
        this.timer.unref();
      }
    }
  }
}
