import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { attemptLimiter, budgetKey, reserveAttempt, type Budget } from './attempt-budgets';

/**
 * Failed-login budgets in Redis (rate-limiter-flexible), each a fixed window from its first
 * attempt: per (account, client address) pair, per account and per client address. A login
 * reserves an attempt from all three before the password is verified; a successful one gives
 * it back and clears the account's counters. The pair's budget is the small one, so that
 * someone who knows an address locks only themselves out; the account's stops a guess spread
 * over many addresses; the client's stops one address trying many accounts.
 */
@Injectable()
export class LoginThrottleService {
  private readonly pair;
  private readonly account;
  private readonly client;

  constructor(
    @Inject(REDIS_CLIENT) redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    const prefix = `${config.get('REDIS_PREFIX', { infer: true })}login-failures`;
    const window = config.get('LOGIN_THROTTLE_WINDOW_SECONDS', { infer: true });
    const limit = (
      name:
        | 'LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT'
        | 'LOGIN_MAX_FAILURES_PER_ACCOUNT'
        | 'LOGIN_MAX_FAILURES_PER_CLIENT',
    ): number => config.get(name, { infer: true });
    this.pair = attemptLimiter(
      redis,
      `${prefix}:pair`,
      limit('LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT'),
      window,
    );
    this.account = attemptLimiter(
      redis,
      `${prefix}:account`,
      limit('LOGIN_MAX_FAILURES_PER_ACCOUNT'),
      window,
    );
    this.client = attemptLimiter(
      redis,
      `${prefix}:client`,
      limit('LOGIN_MAX_FAILURES_PER_CLIENT'),
      window,
    );
  }

  private budgets(email: string, client: string): [Budget, Budget, Budget] {
    return [
      { limiter: this.pair, key: budgetKey(email, client) },
      { limiter: this.account, key: budgetKey(email) },
      { limiter: this.client, key: budgetKey(client) },
    ];
  }

  /** Counts this attempt as a failure until `succeeded`; 429 with Retry-After when spent. */
  async reserve(email: string, client: string): Promise<void> {
    await reserveAttempt(this.budgets(email, client), 'Too many failed login attempts');
  }

  /** The right password: the account's counters reset, the client's attempt is given back. */
  async succeeded(email: string, client: string): Promise<void> {
    const [pair, account, address] = this.budgets(email, client);
    await Promise.all([
      pair.limiter.delete(pair.key),
      account.limiter.delete(account.key),
      address.limiter.reward(address.key, 1),
    ]);
  }
}
