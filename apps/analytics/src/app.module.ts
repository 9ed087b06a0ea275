import { Module, type DynamicModule } from '@nestjs/common';
import { settingsModule } from '@taskit/config';
import { AmqpModule, RabbitMqHealthIndicator } from '@taskit/messaging';
import { HealthModule, MetricsModule, structuredLogging } from '@taskit/observability';
import type { AnalyticsEnvironment } from './config/analytics-environment';
import { InfluxHealthIndicator, InfluxModule } from './influx/influx.module';
import { IngestModule } from './ingest/ingest.module';
import { SummaryModule } from './summary/summary.module';

@Module({})
export class AppModule {
  /** The analytics service, wired from already-validated settings. */
  static forRoot(env: AnalyticsEnvironment): DynamicModule {
    return {
      module: AppModule,
      imports: [
        settingsModule(env),
        structuredLogging('analytics', env.LOG_LEVEL),
        AmqpModule.forRoot({ url: env.RABBITMQ_URL, connectionName: 'taskit-analytics' }),
        InfluxModule,
        MetricsModule.register({ ownPort: env.METRICS_PORT }),
        HealthModule.register({ indicators: [RabbitMqHealthIndicator, InfluxHealthIndicator] }),
        IngestModule,
        SummaryModule,
      ],
    };
  }
}
