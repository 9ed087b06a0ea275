import { Module, type DynamicModule, type ModuleMetadata, type Type } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import { METRICS_REGISTRY } from '@taskit/observability';
import type { Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import { EventPublisher } from './event-publisher';
import { OUTBOX_LEASES_COLLECTION, OutboxLeases, type OutboxLease } from './outbox-leases';
import { OutboxMetrics } from './outbox-metrics';
import {
  DEFAULT_RELAY_OPTIONS,
  OUTBOX_RELAY_OPTIONS,
  OutboxRelay,
  type OutboxRelayOptions,
} from './outbox-relay';
import { OUTBOX_STORE, type OutboxStore } from './outbox.port';

export interface OutboxModuleOptions {
  /** The module that provides `store`. */
  imports: NonNullable<ModuleMetadata['imports']>;
  store: Type<OutboxStore>;
  relay?: Partial<OutboxRelayOptions>;
}

/** The relay that publishes the outbox of whatever store it is given, with its metrics. */
@Module({})
export class OutboxModule {
  static register(options: OutboxModuleOptions): DynamicModule {
    return {
      module: OutboxModule,
      imports: options.imports,
      providers: [
        EventPublisher,
        OutboxRelay,
        { provide: OUTBOX_STORE, useExisting: options.store },
        { provide: OUTBOX_RELAY_OPTIONS, useValue: { ...DEFAULT_RELAY_OPTIONS, ...options.relay } },
        {
          provide: OutboxMetrics,
          inject: [METRICS_REGISTRY, OUTBOX_STORE],
          useFactory: (registry: Registry, store: OutboxStore) =>
            new OutboxMetrics(registry, () => store.backlog()),
        },
        {
          provide: OutboxLeases,
          inject: [getConnectionToken(), OUTBOX_RELAY_OPTIONS],
          useFactory: (connection: Connection, relay: OutboxRelayOptions) =>
            new OutboxLeases(() => {
              if (!connection.db) throw new Error('MongoDB is not connected');
              return connection.db.collection<OutboxLease>(OUTBOX_LEASES_COLLECTION);
            }, relay.leaseMs),
        },
      ],
    };
  }
}
