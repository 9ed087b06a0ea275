import { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import type { GatewayEnvironment } from '../config/gateway-environment';
import type { RedisClient } from '../redis/redis.module';
import { SESSION_MAX_AGE_MS } from './session.constants';
import './session.types';

type Callback = (error?: unknown) => void;

/** Where a session lives in Redis: this prefix and the session id. */
export function sessionKeyPrefix(env: Pick<GatewayEnvironment, 'REDIS_PREFIX'>): string {
  return `${env.REDIS_PREFIX}sess:`;
}

/**
 * connect-redis on the gateway's client, with two differences:
 *
 * - no `touch`: the key's TTL is the cookie's expiry and both move together when the session
 *   is renewed (session.middleware.ts), so a per-request EXPIRE would change nothing;
 * - a renewal (the re-save of an existing session, marked by `renewedAt`) writes only if the
 *   key still exists (`SET … XX`): renewing a request in flight while a concurrent logout
 *   destroys the session must not bring it back.
 */
export class SessionStore extends RedisStore {
  constructor(
    private readonly redis: RedisClient,
    env: GatewayEnvironment,
  ) {
    super({
      client: redis,
      prefix: sessionKeyPrefix(env),
      ttl: SESSION_MAX_AGE_MS / 1000,
      disableTouch: true,
    });
  }

  override async set(sid: string, session: SessionData, callback?: Callback): Promise<void> {
    if (session.renewedAt === undefined) {
      await super.set(sid, session, callback);
      return;
    }
    const expires = session.cookie.expires?.getTime() ?? Date.now() + SESSION_MAX_AGE_MS;
    try {
      await this.redis.set(this.prefix + sid, this.serializer.stringify(session), {
        condition: 'XX',
        expiration: { type: 'PXAT', value: expires },
      });
    } catch (error) {
      // As connect-redis: the error goes to the callback, or rejects without one.
      if (!callback) throw error;
      callback(error);
      return;
    }
    callback?.();
  }
}
