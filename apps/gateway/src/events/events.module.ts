import { Global, Module } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { METRICS_REGISTRY } from '@taskit/observability';
import type { Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import { EventPublisher } from './event-publisher';
import { TASKS_COLLECTION } from './outbox';
import { TaskWriteLock } from '../tasks/task-write-lock';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxSignal } from './outbox-signal';
import {
  OUTBOX_LEASES_COLLECTION,
  OutboxRelay,
  type LeasesCollection,
  type TasksCollection,
} from './outbox-relay';
import { TaskEventFactory } from './task-event.factory';

/**
 * The event pipeline's gateway side: the one TaskEventFactory (one clock per process keeps a
 * user's occurredAt unique), the OutboxSignal the tasks module calls after storing events, and
 * the outbox relay that publishes them to RabbitMQ, with its metrics. Global so that every
 * writer of task events uses these same instances.
 */
@Global()
@Module({
  providers: [
    TaskEventFactory,
    OutboxSignal,
    EventPublisher,
    {
      provide: OutboxRelay,
      inject: [getConnectionToken(), EventPublisher, METRICS_REGISTRY, TaskWriteLock, OutboxSignal],
      useFactory: (
        connection: Connection,
        publisher: EventPublisher,
        registry: Registry,
        lock: TaskWriteLock,
        signal: OutboxSignal,
      ) => {
        const collections = (): { tasks: TasksCollection; leases: LeasesCollection } => {
          if (!connection.db) throw new Error('MongoDB is not connected');
          return {
            tasks: connection.db.collection(TASKS_COLLECTION),
            leases: connection.db.collection(OUTBOX_LEASES_COLLECTION),
          };
        };
        const metrics = new OutboxMetrics(registry, () => relay.measure());
        const relay: OutboxRelay = new OutboxRelay(collections, publisher, metrics, lock, signal);
        return relay;
      },
    },
  ],
  exports: [TaskEventFactory, OutboxSignal, OutboxRelay],
})
export class EventsModule {}
