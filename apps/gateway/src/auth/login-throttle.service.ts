import { createHash } from 'node:crypto';
import { HttpException, HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { decideLogin, type ThrottleCounter, type ThrottleLimits } from './login-throttle.policy';

export class TooManyLoginAttemptsException extends HttpException {
  constructor(retryAfterSeconds: number) {
    super(
      {
        message: `Too many failed login attempts; try again in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}

/**
 * Failed-login counters in Redis, shared by every pod: one per account (normalised email) and
 * one per client address, each in a fixed window that starts at its first failure.
 */
@Injectable()
export class LoginThrottleService {
  private readonly limits: ThrottleLimits;
  private readonly prefix: string;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX', { infer: true })}login-failures:`;
    this.limits = {
      perAccount: config.get('LOGIN_MAX_FAILURES_PER_ACCOUNT', { infer: true }),
      perClient: config.get('LOGIN_MAX_FAILURES_PER_CLIENT', { infer: true }),
      windowMs: config.get('LOGIN_THROTTLE_WINDOW_SECONDS', { infer: true }) * 1000,
    };
  }

  private keys(email: string, client: string): [string, string] {
    // Hashed so that raw addresses and emails are not spread over Redis key names.
    return [`${this.prefix}account:${digest(email)}`, `${this.prefix}client:${digest(client)}`];
  }

  private async read(key: string): Promise<ThrottleCounter> {
    const [failures, ttl] = await this.redis.multi().get(key).pTTL(key).exec();
    return { failures: Number(failures ?? 0), ttlMs: Number(ttl) };
  }

  /** Throws 429 (with Retry-After) while the account or the client is locked out. */
  async assertAllowed(email: string, client: string): Promise<void> {
    const [accountKey, clientKey] = this.keys(email, client);
    const [account, clientCounter] = await Promise.all([
      this.read(accountKey),
      this.read(clientKey),
    ]);
    const decision = decideLogin(account, clientCounter, this.limits);
    if (!decision.allowed) throw new TooManyLoginAttemptsException(decision.retryAfterSeconds);
  }

  async recordFailure(email: string, client: string): Promise<void> {
    await Promise.all(this.keys(email, client).map((key) => this.increment(key)));
  }

  /** A successful login clears the account's counter (the client's stays: it may probe many). */
  async recordSuccess(email: string, client: string): Promise<void> {
    await this.redis.del(this.keys(email, client)[0]);
  }

  private async increment(key: string): Promise<void> {
    const [, ttl] = await this.redis.multi().incr(key).pTTL(key).exec();
    // The window starts at the first failure; set it only once (works on Redis 6 and 7).
    if (Number(ttl) < 0) await this.redis.pExpire(key, this.limits.windowMs);
  }
}
