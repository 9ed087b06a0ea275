import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { registrationLimitsOf, type GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { attemptLimiter, budgetKey, reserveAttempt } from './attempt-budgets';

const TOTAL_KEY = 'all';

/**
 * Sign-up budgets in Redis, per client address and for all clients together: each sign-up
 * costs an argon2 hash (19 MiB, tens of milliseconds) and tells whether an address has an
 * account (409), so a script must meet a limit within a few dozen attempts.
 */
@Injectable()
export class RegistrationThrottleService {
  private readonly perClient;
  private readonly total;

  constructor(
    @Inject(REDIS_CLIENT) redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    const prefix = `${config.get('REDIS_PREFIX', { infer: true })}registrations`;
    const { perClient, total, windowSeconds } = registrationLimitsOf({
      NODE_ENV: config.get('NODE_ENV', { infer: true }),
      REGISTRATION_MAX_PER_CLIENT: config.get('REGISTRATION_MAX_PER_CLIENT', { infer: true }),
      REGISTRATION_MAX_TOTAL: config.get('REGISTRATION_MAX_TOTAL', { infer: true }),
      REGISTRATION_WINDOW_SECONDS: config.get('REGISTRATION_WINDOW_SECONDS', { infer: true }),
    });
    this.perClient = attemptLimiter(redis, `${prefix}:client`, perClient, windowSeconds);
    this.total = attemptLimiter(redis, `${prefix}:total`, total, windowSeconds);
  }

  /** Counts a sign-up attempt (whatever its outcome); 429 with Retry-After when spent. */
  async reserve(client: string): Promise<void> {
    await reserveAttempt(
      [
        { limiter: this.perClient, key: budgetKey(client) },
        { limiter: this.total, key: TOTAL_KEY },
      ],
      'Too many sign-ups',
    );
  }
}
