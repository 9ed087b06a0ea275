import { Counter, Gauge, type Registry } from 'prom-client';
import type { OutboxBacklog } from './outbox.port';

export type PublishFailureReason = 'nacked' | 'returned' | 'timeout' | 'disconnected';

/** The relay's metrics; backlog and age are measured in the store at scrape time. */
export class OutboxMetrics {
  readonly published: Counter;
  readonly publishFailures: Counter<'reason'>;
  readonly swept: Counter;
  readonly backlog: Gauge;
  readonly oldestPendingAge: Gauge;

  constructor(registry: Registry, measure: () => Promise<OutboxBacklog>) {
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
    this.swept = new Counter({
      name: 'taskit_outbox_swept_documents_total',
      help: 'Documents the sweep published because no fast path had (a crashed pod, a failed publish)',
      registers: [registry],
    });
    let last: Promise<OutboxBacklog> | undefined;
    // One measurement serves both gauges of a scrape.
    const measureOnce = () => {
      last ??= measure().finally(() => setTimeout(() => (last = undefined), 500).unref());
      return last;
    };
    this.backlog = new Gauge({
      name: 'taskit_outbox_backlog_events',
      help: 'Task events recorded but not yet confirmed by RabbitMQ',
      registers: [registry],
      async collect() {
        this.set((await measureOnce()).events);
      },
    });
    this.oldestPendingAge = new Gauge({
      name: 'taskit_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest task event still waiting in the outbox (0 when empty)',
      registers: [registry],
      async collect() {
        this.set((await measureOnce()).oldestPendingAgeSeconds);
      },
    });
  }
}
