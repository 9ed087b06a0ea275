import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { FlashService } from './flash.service';
import { SESSIONS_PER_USER_MAX } from './session.constants';
import { sessionKeyPrefix } from './session-store';

/**
 * The sessions of each user, so that a password change or "sign out everywhere else" can end
 * them on every pod: a sorted set per user in Redis of session ids by login time, bounded by
 * the absolute lifetime (older entries are dead anyway) and by SESSIONS_PER_USER_MAX (a login
 * beyond it ends the oldest session).
 */
@Injectable()
export class UserSessionsService {
  private readonly indexPrefix: string;
  private readonly sessionPrefix: string;
  private readonly lifetimeMs: number;

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    private readonly flash: FlashService,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    const prefix = config.get('REDIS_PREFIX', { infer: true });
    this.indexPrefix = `${prefix}user-sessions:`;
    this.sessionPrefix = sessionKeyPrefix({ REDIS_PREFIX: prefix });
    this.lifetimeMs = config.get('SESSION_ABSOLUTE_LIFETIME_SECONDS', { infer: true }) * 1000;
  }

  private indexOf(userId: string): string {
    return `${this.indexPrefix}${userId}`;
  }

  async add(userId: string, sessionId: string): Promise<void> {
    const key = this.indexOf(userId);
    const now = Date.now();
    const [, , , count] = await this.redis
      .multi()
      .zAdd(key, { score: now, value: sessionId })
      .zRemRangeByScore(key, '-inf', now - this.lifetimeMs)
      .pExpire(key, this.lifetimeMs)
      .zCard(key)
      .exec();
    const surplus = Number(count) - SESSIONS_PER_USER_MAX;
    if (surplus > 0) {
      const oldest = await this.redis.zRange(key, 0, surplus - 1);
      await this.end(key, oldest);
    }
  }

  async remove(userId: string, sessionId: string): Promise<void> {
    await this.redis.zRem(this.indexOf(userId), sessionId);
  }

  /** Ends every session of the user but `keep` (the one making the request). */
  async endOthers(userId: string, keep: string): Promise<void> {
    const key = this.indexOf(userId);
    const sessions = await this.redis.zRange(key, 0, -1);
    await this.end(
      key,
      sessions.filter((id) => id !== keep),
    );
  }

  private async end(key: string, sessionIds: string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    await this.redis
      .multi()
      .del(sessionIds.map((id) => this.sessionPrefix + id))
      .del(sessionIds.map((id) => this.flash.keyFor(id)))
      .zRem(key, sessionIds)
      .exec();
  }
}
