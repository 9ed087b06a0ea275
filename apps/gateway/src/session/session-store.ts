import { RedisStore } from 'connect-redis';
import { Store, type SessionData } from 'express-session';
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
 * connect-redis on the gateway's client (its keys, TTLs and JSON, so sessions already in Redis
 * stay valid), with two differences:
 *
 * - no `touch` at all: the key's TTL is the cookie's expiry and both move together when the
 *   session is renewed (session.middleware.ts), so a per-request EXPIRE would change nothing.
 *   connect-redis's `disableTouch` is not enough: express-session asks any store that has a
 *   `touch` method, after every unchanged request, whether to call it, and that question
 *   hashes the session once more. Hence a store that delegates to connect-redis rather than
 *   extends it;
 * - a renewal (the re-save of an existing session, marked by `renewedAt`) writes only if the
 *   key still exists (`SET … XX`): renewing a request in flight while a concurrent logout
 *   destroys the session must not bring it back.
 */
export class SessionStore extends Store {
  private readonly sessions: RedisStore;

  constructor(
    private readonly redis: RedisClient,
    env: GatewayEnvironment,
  ) {
    super();
    this.sessions = new RedisStore({
      client: redis,
      prefix: sessionKeyPrefix(env),
      ttl: SESSION_MAX_AGE_MS / 1000,
      disableTouch: true,
    });
  }

  // express-session's store interface is callback-based: it passes a callback to every call
  // and ignores what the methods return. connect-redis answers through that callback (without
  // one it would reject a promise nobody holds), hence callbacks are required here.
  override get(
    sid: string,
    callback: (error: unknown, session?: SessionData | null) => void,
  ): void {
    void this.sessions.get(sid, callback);
  }

  override destroy(sid: string, callback: Callback): void {
    void this.sessions.destroy(sid, callback);
  }

  override set(sid: string, session: SessionData, callback: Callback): void {
    if (session.renewedAt === undefined) {
      void this.sessions.set(sid, session, callback);
      return;
    }
    const expires = session.cookie.expires?.getTime() ?? Date.now() + SESSION_MAX_AGE_MS;
    this.redis
      // connect-redis's own key and serializer, so the renewal writes what its `set` would.
      .set(this.sessions.prefix + sid, this.sessions.serializer.stringify(session), {
        condition: 'XX',
        expiration: { type: 'PXAT', value: expires },
      })
      .then(
        () => callback(),
        (error: unknown) => callback(error),
      );
  }
}
