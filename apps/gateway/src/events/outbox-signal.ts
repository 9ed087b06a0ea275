import { Inject, Injectable } from '@nestjs/common';
import { METRICS_REGISTRY } from '@taskit/observability';
import { Counter, type Registry } from 'prom-client';

/**
 * Told by the tasks service after a change and its events were stored: counts the events and
 * wakes this pod's outbox relay, so they are published at once instead of at its next poll.
 */
@Injectable()
export class OutboxSignal {
  private readonly listeners = new Set<() => void>();
  private readonly recorded: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.recorded = new Counter({
      name: 'taskit_outbox_events_recorded_total',
      help: 'Task events stored in the outbox together with their task change',
      registers: [registry],
    });
  }

  eventsStored(count: number): void {
    if (count <= 0) return;
    this.recorded.inc(count);
    for (const listener of this.listeners) listener();
  }

  /** Returns the function that unsubscribes. */
  onEventsStored(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
