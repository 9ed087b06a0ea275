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

/** The gateway's Redis connection: sessions, throttling, locks and readiness use it. */
export const REDIS_CLIENT = Symbol('REDIS_CLIENT');
/** The task-list cache's pages: REDIS_CACHE_URL's instance, or REDIS_CLIENT without one. */
export const REDIS_CACHE_CLIENT = Symbol('REDIS_CACHE_CLIENT');
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
  constructor(
    @Inject(REDIS_CLIENT) private readonly client: RedisClient,
    @Inject(REDIS_CACHE_CLIENT) private readonly cacheClient: RedisClient,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    for (const client of new Set([this.client, this.cacheClient])) {
      clearInterval(watchers.get(client));
      if (client.isOpen) await client.close();
    }
  }
}

/**
 * A connection that fails fast while disconnected and connects in the background: while
 * Redis is away the gateway runs and reports not ready (or degraded, for the cache).
 */
function connectRedis(name: string, url: string, tlsCa: string | undefined): RedisClient {
  const logger = new Logger(name);
  const client: RedisClient = createClient({
    url,
    // Fail fast while disconnected instead of queueing requests that would hang.
    disableOfflineQueue: true,
    // No timer per command: watchDeadline bounds the wait for the whole connection.
    commandOptions: { timeout: 0 },
    socket: {
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
      // Memorystore's in-transit encryption signs with its own CA (a `rediss://` URL).
      ...(tlsCa === undefined ? {} : { ca: tlsCa }),
    },
  });
  client.on('error', (error: Error) => logger.warn(`${name}: ${error.message}`));
  client.connect().catch((error: Error) => logger.warn(`${name}: ${error.message}`));
  watchDeadline(client, logger);
  return client;
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
    return pingCheck(this.health, this.name, this.client);
  }
}

/** Optional: without the cache every list is read from MongoDB, slower but correct. */
@Injectable()
export class RedisCacheHealthIndicator implements DependencyIndicator {
  readonly name = 'redis-cache';
  readonly required = false;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(REDIS_CACHE_CLIENT) private readonly client: RedisClient,
  ) {}

  check() {
    return pingCheck(this.health, this.name, this.client);
  }
}

function pingCheck(health: HealthIndicatorService, name: string, client: RedisClient) {
  return boundedAttempt(
    health.check(name).attempt(async () => {
      if (!client.isReady) throw new Error('not connected');
      await client.ping();
    }),
  );
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnvironment, true>) =>
        connectRedis(
          'Redis',
          config.get('REDIS_URL', { infer: true }),
          config.get('REDIS_TLS_CA', { infer: true }),
        ),
    },
    {
      provide: REDIS_CACHE_CLIENT,
      inject: [ConfigService, REDIS_CLIENT],
      useFactory: (config: ConfigService<GatewayEnvironment, true>, sessions: RedisClient) => {
        const url = config.get('REDIS_CACHE_URL', { infer: true });
        return url === undefined
          ? sessions
          : connectRedis('RedisCache', url, config.get('REDIS_TLS_CA', { infer: true }));
      },
    },
    RedisClientCloser,
  ],
  exports: [REDIS_CLIENT, REDIS_CACHE_CLIENT],
})
export class RedisModule {}
