import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { SessionData } from 'express-session';
import type { RedisClient } from '../redis/redis.module';
import {
  SESSION_COOKIE_NAME,
  SESSION_MAX_AGE_MS,
  SESSION_RENEW_INTERVAL_MS,
} from './session.constants';
import type { SessionUser } from './session-user';
import './session.types';

// The cookie parser express-session itself loads, so that the cookie is found in the header
// exactly as express-session finds it.
const { parse: parseCookies } = createRequire(require.resolve('express-session'))('cookie') as {
  parse(this: void, header: string): Record<string, string | undefined>;
};

/**
 * cookie-signature's `unsign` as express-session calls it (`s:` stripped): the id when the
 * value is `<id>.<HMAC-SHA256 of id, base64 without padding>`. Compared with timingSafeEqual
 * instead of cookie-signature 1.0's two SHA-1 digests: the same values are accepted.
 */
export function unsign(value: string, secret: string): string | undefined {
  const dot = value.lastIndexOf('.');
  if (dot < 0) return undefined;
  const sid = value.slice(0, dot);
  const mac = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  const expected = Buffer.from(`${sid}.${mac}`);
  const actual = Buffer.from(value);
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? sid : undefined;
}

/** A session whose cookie was last set longer than SESSION_RENEW_INTERVAL_MS before `now`. */
export function isRenewalDue(expires: Date | string, now = Date.now()): boolean {
  const at = typeof expires === 'string' ? Date.parse(expires) : expires.getTime();
  return at - now < SESSION_MAX_AGE_MS - SESSION_RENEW_INTERVAL_MS;
}

/** The session id of a request's signed `taskit.sid` cookie, or undefined (none, or forged). */
export function sessionIdOf(cookieHeader: string | undefined, secret: string): string | undefined {
  if (!cookieHeader) return undefined;
  const value = parseCookies(cookieHeader)[SESSION_COOKIE_NAME];
  if (!value?.startsWith('s:')) return undefined;
  // An empty id is no id to express-session either: it starts a new session.
  return unsign(value.slice(2), secret) || undefined;
}

/**
 * Reads the logged-in user of a request from the session store without express-session, for
 * the direct read route (tasks/task-list.direct-route.ts): the same cookie, signature and
 * Redis key as express-session with SessionStore. Only a session that express-session would
 * leave untouched gives a user: logged in and not due for renewal (a renewal saves the
 * session and sends the cookie, which only express-session does). Redis errors propagate.
 */
export class SessionReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly secret: string,
  ) {}

  async userOf(req: IncomingMessage): Promise<SessionUser | undefined> {
    const sid = sessionIdOf(req.headers.cookie, this.secret);
    if (sid === undefined) return undefined;
    const stored = await this.redis.get(this.keyPrefix + sid);
    if (stored === null) return undefined;
    const session = JSON.parse(stored) as SessionData;
    const expires = session.cookie?.expires;
    if (!session.user || !expires || isRenewalDue(expires)) return undefined;
    return { id: session.user.id, email: session.user.email };
  }
}
