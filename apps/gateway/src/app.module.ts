import { Module, type DynamicModule } from '@nestjs/common';
import { settingsModule } from '@taskit/config';
import { AmqpModule, RabbitMqHealthIndicator } from '@taskit/messaging';
import { HealthModule, MetricsModule, structuredLogging } from '@taskit/observability';
import { AuthModule } from './auth/auth.module';
import type { GatewayEnvironment } from './config/gateway-environment';
import { MongoDbModule } from './mongodb/mongodb.module';
import { MongoHealthIndicator } from './mongodb/mongodb.health';
import { OutboxModule } from './outbox/outbox.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisCacheHealthIndicator, RedisHealthIndicator, RedisModule } from './redis/redis.module';
import { SessionModule } from './session/session.module';
import { AnalyticsSummaryModule } from './analytics-summary/analytics-summary.module';
import { TaskOutboxStore } from './tasks/task-outbox.store';
import { TasksModule } from './tasks/tasks.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  /** The gateway, wired from already-validated settings (main.ts and tests build them). */
  static forRoot(env: GatewayEnvironment): DynamicModule {
    return {
      module: AppModule,
      imports: [
        settingsModule(env),
        structuredLogging('gateway', env.LOG_LEVEL),
        MongoDbModule,
        RedisModule,
        SessionModule,
        // Before AuthModule: its global guard runs first, so refused requests spend no more.
        RateLimitModule,
        AuthModule,
        TasksModule,
        AmqpModule.forRoot({ url: env.RABBITMQ_URL, connectionName: 'taskit-gateway' }),
        MetricsModule.register({ ownPort: env.METRICS_PORT }),
        HealthModule.register({
          indicators: [
            MongoHealthIndicator,
            RedisHealthIndicator,
            RabbitMqHealthIndicator,
            // Only a cache instance of its own can be away while the sessions' one answers.
            ...(env.REDIS_CACHE_URL === undefined ? [] : [RedisCacheHealthIndicator]),
          ],
        }),
        WebModule,
        OutboxModule.register({ imports: [TasksModule], store: TaskOutboxStore }),
        AnalyticsSummaryModule,
      ],
    };
  }
}
