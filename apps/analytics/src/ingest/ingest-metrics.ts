import { Counter, Histogram, type Registry } from 'prom-client';
import type { PoisonReason } from './task-event-message';

export type DeadLetterReason = PoisonReason | 'oversize' | 'influx_rejected';

export class IngestMetrics {
  readonly consumed: Counter;
  readonly acked: Counter;
  readonly deadLettered: Counter<'reason'>;
  readonly writeDuration: Histogram<'outcome'>;
  readonly batchSize: Histogram;
  readonly eventLag: Histogram;

  constructor(registry: Registry) {
    this.consumed = new Counter({
      name: 'taskit_worker_events_consumed_total',
      help: 'Messages delivered to the worker from analytics.task-events (redeliveries included)',
      registers: [registry],
    });
    this.acked = new Counter({
      name: 'taskit_worker_events_acked_total',
      help: 'Events acked after their batch was written to InfluxDB',
      registers: [registry],
    });
    this.deadLettered = new Counter({
      name: 'taskit_worker_events_dead_lettered_total',
      help: 'Messages rejected to analytics.task-events.dlq, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.writeDuration = new Histogram({
      name: 'taskit_worker_influx_write_duration_seconds',
      help: 'InfluxDB batch write latency, by outcome (ok, retry, rejected)',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.batchSize = new Histogram({
      name: 'taskit_worker_batch_size',
      help: 'Points per InfluxDB batch write',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000],
      registers: [registry],
    });
    // The event-freshness SLO reads the 30 s bucket (deploy/prometheus/slo-rules.yaml).
    this.eventLag = new Histogram({
      name: 'taskit_worker_event_lag_seconds',
      help: "Seconds from an event's occurredAt to its point written to InfluxDB",
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers: [registry],
    });
  }
}
