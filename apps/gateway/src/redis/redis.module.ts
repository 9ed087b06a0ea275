import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HealthIndicatorService } from '@nestjs/terminus';
import { boundedAttempt, type DependencyIndicator } from '@taskit/observability';
import { createClient, type RedisClientType } from 'redis';
import type { GatewayEnvironment } from '../config/gateway-environment';

/** The gateway's Redis connection: sessions, login throttling and readiness use it. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
export type RedisClient = RedisClientType;

/** How long Redis may leave the connection unanswered before it is dropped. */
export const REDIS_DEADLINE_MS = 5_000;
const WATCH_INTERVAL_MS = 1_000;
const watchers = new WeakMap<RedisClient, NodeJS.Timeout>();

/**
 * One deadline for the connection instead of node-redis' per-command one (an
 * `AbortSignal.timeout` per command whose timer always fires, with a DOMException: 4 % of the
 * gateway's CPU on reads). A PING goes out every second; when one stays unanswered for
 * REDIS_DEADLINE_MS, the socket is dropped, which rejects every pending command (503) and
 * connects again, as after a lost connection.
 */
function watchDeadline(client: RedisClient, logger: Logger): void {
  let pingSentAt: number | undefined;
  const timer = setInterval(() => {
    if (!client.isReady) return;
    if (pingSentAt === undefined) {
      pingSentAt = Date.now();
      const answered = () => (pingSentAt = undefined);
      client.ping().then(answered, answered);
    } else if (Date.now() - pingSentAt >= REDIS_DEADLINE_MS) {
      logger.warn(`redis: no answer within ${REDIS_DEADLINE_MS} ms, reconnecting`);
      pingSentAt = undefined;
      client.destroy();
      client.connect().catch((error: Error) => logger.warn(`redis: ${error.message}`));
    }
  }, WATCH_INTERVAL_MS);
  timer.unref();
  watchers.set(client, timer);
}

@Injectable()
class RedisClientCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly client: RedisClient) {}

  async onApplicationShutdown(): Promise<void> {
    clearInterval(watchers.get(this.client));
    if (this.client.isOpen) await this.client.close();
  }
}

/** Required: every signed-in request reads its session from Redis (docs/operations.md). */
@Injectable()
export class RedisHealthIndicator implements DependencyIndicator {
  readonly name = 'redis';
  readonly required = true;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
  ) {}

  check() {
    return boundedAttempt(
      this.health.check(this.name).attempt(async () => {
        if (!this.client.isReady) throw new Error('not connected');
        await this.client.ping();
      }),
    );
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
          // No timer per command: watchDeadline bounds the wait for the whole connection.
          commandOptions: { timeout: 0 },
          socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) },
        });
        client.on('error', (error: Error) => logger.warn(`redis: ${error.message}`));
        // Start without waiting: while Redis is away the gateway runs and reports not ready.
        client.connect().catch((error: Error) => logger.warn(`redis: ${error.message}`));
        watchDeadline(client, logger);
        return client;
      },
    },
    RedisClientCloser,
  ],
  exports: [REDIS_CLIENT],
})
export class RedisModule {}
