import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { HealthIndicator } from '@taskit/observability';
import { createClient, type RedisClientType } from 'redis';
import type { GatewayEnvironment } from '../config/gateway-environment';

/** The gateway's Redis connection: sessions, login throttling and readiness use it. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export type RedisClient = RedisClientType;

@Injectable()
class RedisClientCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }
}

@Injectable()
export class RedisHealthIndicator implements HealthIndicator {
  readonly name = 'redis';

  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  async check(): Promise<void> {
    if (!this.client.isReady) throw new Error('not connected');
    await this.client.ping();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnvironment, true>) => {
        const logger = new Logger('Redis');
        const client: RedisClient = createClient({
          url: config.get('REDIS_URL', { infer: true }),
          // Fail fast while disconnected instead of queueing requests that would hang.
          disableOfflineQueue: true,
          socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
        });
        client.on('error', (error: Error) => logger.warn(`redis: ${error.message}`));
        // Start without waiting: while Redis is away the gateway runs and reports not ready.
        client.connect().catch((error: Error) => logger.warn(`redis: ${error.message}`));
        return client;
      },
    },
    RedisClientCloser,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
