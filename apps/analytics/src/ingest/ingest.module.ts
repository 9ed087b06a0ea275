import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { InfluxDB } from '@influxdata/influxdb-client';
import { AMQP_CONNECTION } from '@taskit/messaging';
import { METRICS_REGISTRY } from '@taskit/observability';
import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Registry } from 'prom-client';
import type { AnalyticsEnvironment } from '../config/analytics-environment';
import { INFLUX_CLIENT } from '../influx/influx.module';
import { EventConsumer } from './event-consumer';
import { IngestMetrics } from './ingest-metrics';

/** The worker: task events from RabbitMQ into InfluxDB, with `source=worker`. */
@Module({
  providers: [
    {
      provide: EventConsumer,
      inject: [AMQP_CONNECTION, INFLUX_CLIENT, METRICS_REGISTRY, ConfigService],
      useFactory: (
        connection: AmqpConnectionManager,
        influx: InfluxDB,
        registry: Registry,
        config: ConfigService<AnalyticsEnvironment, true>,
      ) =>
        new EventConsumer(connection, influx, new IngestMetrics(registry), {
          org: config.get('INFLUX_ORG', { infer: true }),
          bucket: config.get('INFLUX_BUCKET', { infer: true }),
          batchSize: config.get('INGEST_BATCH_SIZE', { infer: true }),
          prefetch: config.get('INGEST_PREFETCH', { infer: true }),
          batchWaitMs: config.get('INGEST_BATCH_WAIT_MS', { infer: true }),
          maxBackoffMs: config.get('INGEST_MAX_BACKOFF_MS', { infer: true }),
          maxMessageBytes: config.get('INGEST_MAX_MESSAGE_BYTES', { infer: true }),
        }),
    },
  ],
})
export class IngestModule {}
