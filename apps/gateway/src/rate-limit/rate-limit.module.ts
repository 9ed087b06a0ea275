import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { METRICS_REGISTRY } from '@taskit/observability';
import { Counter, type Registry } from 'prom-client';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { BackgroundShare } from './background-share';
import { RateLimitGuard } from './rate-limit.guard';
import { InFlightPerUser } from './in-flight-per-user';
import { RateLimits } from './rate-limits';

/**
 * Rate limits per user and per client on every API route, in Redis, and the pod's share for
 * background work that yields to the requests being served (docs/limits.md).
 */
@Module({
  providers: [
    BackgroundShare,
    {
      provide: RateLimits,
      inject: [REDIS_CLIENT, ConfigService],
      useFactory: (redis: RedisClient, config: ConfigService<GatewayEnvironment, true>) =>
        new RateLimits(redis, {
          windowSeconds: config.get('API_RATE_LIMIT_WINDOW_SECONDS', { infer: true }),
          perUser: config.get('API_RATE_LIMIT_PER_USER', { infer: true }),
          perClient: config.get('API_RATE_LIMIT_PER_CLIENT', { infer: true }),
          bulkPerUser: config.get('API_RATE_LIMIT_BULK_PER_USER', { infer: true }),
          perUserPerSecond: config.get('API_RATE_LIMIT_PER_USER_PER_SECOND', { infer: true }),
          bulkPerUserPerSecond: config.get('API_RATE_LIMIT_BULK_PER_USER_PER_SECOND', {
            infer: true,
          }),
          redisPrefix: config.get('REDIS_PREFIX', { infer: true }),
        }),
    },
    {
      provide: APP_GUARD,
      inject: [RateLimits, Reflector, METRICS_REGISTRY, ConfigService, BackgroundShare],
      useFactory: (
        limits: RateLimits,
        reflector: Reflector,
        registry: Registry,
        config: ConfigService<GatewayEnvironment, true>,
        share: BackgroundShare,
      ) =>
        new RateLimitGuard(
          limits,
          reflector,
          new InFlightPerUser(config.get('API_IN_FLIGHT_PER_USER', { infer: true })),
          new Counter({
            name: 'taskit_gateway_rate_limited_total',
            help: 'API requests refused with 429, by the limit that refused them (user, client, bulk, user-second, bulk-second, in-flight)',
            labelNames: ['limit'],
            registers: [registry],
          }),
          share,
        ),
    },
  ],
  exports: [BackgroundShare],
})
export class RateLimitModule {}
