import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { MongooseModule } from '@nestjs/mongoose';
import { settingsModule } from '@taskit/config';
import { AmqpModule, RabbitMqHealthIndicator } from '@taskit/messaging';
import { HealthModule, MetricsModule, structuredLogging } from '@taskit/observability';
import { AuthModule } from './auth/auth.module';
import type { GatewayEnvironment } from './config/gateway-environment';
import { MongoHealthIndicator } from './health/mongodb.health';
import { OutboxModule } from './outbox/outbox.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RedisHealthIndicator, RedisModule } from './redis/redis.module';
import { SessionModule } from './session/session.module';
import { StatsModule } from './stats/stats.module';
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
        MongooseModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<GatewayEnvironment, true>) => ({
            uri: config.get('MONGODB_URI', { infer: true }),
            serverSelectionTimeoutMS: 5_000,
            maxPoolSize: config.get('MONGODB_MAX_POOL_SIZE', { infer: true }),
            autoIndex: true,
          }),
        }),
        RedisModule,
        SessionModule,
        // Before AuthModule: its global guard runs first, so refused requests spend no more.
        RateLimitModule,
        AuthModule,
        TasksModule,
        AmqpModule.forRoot({ url: env.RABBITMQ_URL, connectionName: 'taskit-gateway' }),
        MetricsModule,
        HealthModule.register({
          indicators: [MongoHealthIndicator, RedisHealthIndicator, RabbitMqHealthIndicator],
        }),
        WebModule,
        OutboxModule.register({ imports: [TasksModule], store: TaskOutboxStore }),
        StatsModule,
      ],
    };
  }
}
