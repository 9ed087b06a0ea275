import { Logger } from '@nestjs/common';
import { RedisStore } from 'connect-redis';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { GatewayEnvironment } from '../config/gateway-environment';
import type { RedisClient } from '../redis/redis.module';
import {
  SESSION_COOKIE_NAME,
  SESSION_MAX_AGE_MS,
  SESSIONLESS_PATH_PREFIXES,
} from './session.constants';

export function sessionStoreFor(client: RedisClient, env: GatewayEnvironment): RedisStore {
  return new RedisStore({
    client,
    prefix: `${env.REDIS_PREFIX}sess:`,
    ttl: SESSION_MAX_AGE_MS / 1000,
  });
}

/**
 * express-session on Redis (connect-redis), so every gateway pod sees the same sessions.
 *
 * Cookie: httpOnly, SameSite=Lax, one day, renewed on every response (rolling). In production
 * `secure: 'auto'` with `trust proxy` makes it Secure exactly when the request reached the load
 * balancer over HTTPS (X-Forwarded-Proto), so plain-HTTP compose still works.
 *
 * Errors of the store (Redis down) go to Nest's exception handler, which answers 503.
 */
export function createSessionMiddleware(
  client: RedisClient,
  env: GatewayEnvironment,
): RequestHandler {
  const handler = session({
    name: SESSION_COOKIE_NAME,
    secret: env.sessionSecret,
    store: sessionStoreFor(client, env),
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: env.isProduction ? 'auto' : false,
      maxAge: SESSION_MAX_AGE_MS,
      path: '/',
    },
  });

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
      next(error);
    });
  };
}
