import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { SESSION_MAX_AGE_MS } from './session.constants';

const MAX_NOTICES = 20;

/**
 * One-shot flash notices ("Task created", "Signed out") for a session, read once by the next
 * GET /api/auth/me or /api/auth/notices, on any pod.
 *
 * They live in a Redis list keyed by the session id rather than inside the session object:
 * writing the session on ordinary requests would race with a concurrent logout (the late save
 * of a request still in flight would bring a destroyed session back to life) and would lose
 * notices of concurrent requests. RPUSH and an atomic read-and-delete have neither problem.
 */
@Injectable()
export class FlashService {
  private readonly logger = new Logger(FlashService.name);
  private readonly prefix: string;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX', { infer: true })}flash:`;
  }

  keyFor(sessionId: string): string {
    return `${this.prefix}${sessionId}`;
  }

  /** Adds a notice; a notice is a courtesy, so a Redis failure here is logged, not thrown. */
  async push(sessionId: string, notice: string): Promise<void> {
    const key = this.keyFor(sessionId);
    try {
      await this.redis
        .multi()
        .rPush(key, notice)
        .lTrim(key, -MAX_NOTICES, -1)
        .pExpire(key, SESSION_MAX_AGE_MS)
        .exec();
    } catch (error) {
      this.logger.warn(`flash notice not stored: ${(error as Error).message}`);
    }
  }

  /** Returns the pending notices, oldest first, and removes them (atomically). */
  async consume(sessionId: string): Promise<string[]> {
    const key = this.keyFor(sessionId);
    const [notices] = await this.redis.multi().lRange(key, 0, -1).del(key).exec();
    return Array.isArray(notices) ? notices.map(String) : [];
  }

  async discard(sessionId: string): Promise<void> {
    await this.redis.del(this.keyFor(sessionId));
  }
}
