import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { GatewayEnvironment } from '../config/gateway-environment';
import type { RedisClient } from '../redis/redis.module';
import {
  HOST_SESSION_COOKIE_NAME,
  SESSION_COOKIE_NAME,
  SESSION_MAX_AGE_MS,
  SESSIONLESS_PATH_PREFIXES,
} from './session.constants';
import { isRenewalDue } from './session-renewal';
import { SessionStore } from './session-store';
import './session.types';

/**
 * Marks a session for renewal when its cookie was last set more than SESSION_RENEW_INTERVAL_MS
 * ago. `cookie.expires` is still the stored one here (express-session resets it only when the
 * response ends): the expiry of the browser's cookie and of the Redis key. The new field makes
 * express-session save the session and send the cookie again, both with a fresh day.
 */
function renewIfDue(req: Request): void {
  const expires = req.session?.cookie.expires;
  if (expires && isRenewalDue(expires)) {
    req.session.renewedAt = Date.now();
  }
}

/**
 * A logged-in session past its absolute lifetime (or from before logins were dated) is
 * replaced by an empty one, however recently it was used: the request goes on logged out.
 */
function endIfPastLifetime(
  req: Request,
  lifetimeMs: number,
  done: (error?: unknown) => void,
): void {
  const { user, authenticatedAt } = req.session ?? {};
  if (!user || (authenticatedAt !== undefined && Date.now() - authenticatedAt < lifetimeMs)) {
    done();
    return;
  }
  req.session.regenerate(done);
}

/** The cookie's name: with the `__Host-` prefix whenever browsers come over HTTPS only. */
export function sessionCookieName(env: Pick<GatewayEnvironment, 'httpsOnly'>): string {
  return env.httpsOnly ? HOST_SESSION_COOKIE_NAME : SESSION_COOKIE_NAME;
}

/**
 * express-session on Redis (connect-redis), so every gateway pod sees the same sessions.
 *
 * Cookie: httpOnly, SameSite=Lax, one day. The cookie and the Redis key expire together; a
 * request renews both to a full day when they were set over an hour ago, instead of signing
 * and sending the cookie on every response (`rolling`). Behind TLS (HTTPS_ONLY, the production
 * default) it is `__Host-taskit.sid` and always Secure; otherwise in production
 * `secure: 'auto'` with `trust proxy` makes it Secure exactly when the request reached the load
 * balancer over HTTPS (X-Forwarded-Proto), so plain-HTTP compose still works. Every secret of
 * SESSION_SECRET verifies a cookie, the first signs. A session also ends
 * SESSION_ABSOLUTE_LIFETIME_SECONDS after its login.
 *
 * Errors of the store (Redis down) go to Nest's exception handler, which answers 503.
 */
export function createSessionMiddleware(
  client: RedisClient,
  env: GatewayEnvironment,
): RequestHandler {
  const handler = session({
    name: sessionCookieName(env),
    secret: env.sessionSecrets,
    store: new SessionStore(client, env),
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: env.httpsOnly ? true : env.isProduction ? 'auto' : false,
      maxAge: SESSION_MAX_AGE_MS,
      path: '/',
    },
  });

  const lifetimeMs = env.SESSION_ABSOLUTE_LIFETIME_SECONDS * 1000;
  const logger = new Logger('Session');
  return function sessionMiddleware(req: Request, res: Response, next: NextFunction): void {
    if (SESSIONLESS_PATH_PREFIXES.some((prefix) => req.path.startsWith(prefix))) {
      next();
      return;
    }
    let routed = false;
    handler(req, res, (error?: unknown) => {
      if (routed) {
        // A failure while saving after the handler produced its response: the response is
        // already decided, so it is only logged.
        if (error !== undefined)
          logger.warn(
            `session not saved: ${error instanceof Error ? error.message : 'unknown error'}`,
          );
        return;
      }
      routed = true;
      if (error !== undefined) {
        next(error);
        return;
      }
      endIfPastLifetime(req, lifetimeMs, (ended?: unknown) => {
        if (ended === undefined) renewIfDue(req);
        next(ended);
      });
    });
  };
}
