import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import compression from 'compression';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { SafeValidationPipe } from './common/safe-validation.pipe';
import type { GatewayEnvironment } from './config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from './redis/redis.module';
import { SESSION_COOKIE_NAME } from './session/session.constants';
import { createSessionMiddleware } from './session/session.middleware';

/** Largest accepted request body; larger ones get 413. */
export const BODY_LIMIT = '1mb';
export const API_DOCS_PATH = 'api/docs';

/** The web UI's own assets only: no inline scripts, no third-party origins. */
function contentSecurityPolicy(env: GatewayEnvironment) {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      // Only behind the TLS load balancer: on plain HTTP it would break every fetch.
      ...(env.httpsOnly ? { upgradeInsecureRequests: [] } : {}),
    },
  };
}

function setUpApiDocs(app: NestExpressApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Taskit gateway')
    .setDescription(
      'Session cookie authentication; state-changing requests need X-CSRF-Token (CONTRACT §3).',
    )
    .setVersion('1')
    .addCookieAuth(SESSION_COOKIE_NAME)
    .build();
  SwaggerModule.setup(API_DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: `${API_DOCS_PATH}/openapi.json`,
  });
}

/** The API speaks JSON only (CONTRACT section 3): any other request body is a 415. */
function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && req.path.startsWith('/api/') && !req.is('application/json')) {
    const statusCode = 415;
    res.status(statusCode).json({
      statusCode,
      message: 'Request bodies must be application/json',
      error: 'Unsupported Media Type',
    });
    return;
  }
  next();
}

/** Express's `trust proxy`: exactly the proxies TRUST_PROXY names, so that `req.ip` is the client. */
export function applyTrustProxy(
  app: { set(setting: string, value: unknown): unknown },
  env: GatewayEnvironment,
): void {
  app.set('trust proxy', env.trustProxy);
}

/**
 * Everything applied to the Nest application outside the module graph (HTTP middleware,
 * global pipes, filters), in one place so that main.ts and the e2e tests run the
 * same gateway. Initialises the application.
 */
export async function configureGateway(
  app: NestExpressApplication,
  env: GatewayEnvironment,
): Promise<void> {
  app.disable('x-powered-by');
  // No ETag (a SHA-1 of every body, 2 % of the CPU on task lists) for API answers, which are
  // no-store; the pages set their own, computed once (WebSite.pageETag).
  app.set('etag', false);
  // Behind the GKE load balancer the client address and scheme come from X-Forwarded-*.
  applyTrustProxy(app, env);

  app.use(
    helmet({
      contentSecurityPolicy: contentSecurityPolicy(env),
      // Plain-HTTP deployments (compose) must not be pinned to HTTPS.
      strictTransportSecurity: env.httpsOnly,
    }),
  );
  app.use(compression());
  app.use(requireJsonBodies);
  // Replaces Nest's default parsers (same names): 1 MB, and their errors (400 malformed JSON,
  // 413 too large) are mapped by Nest and shaped by AllExceptionsFilter.
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false });

  app.use(createSessionMiddleware(app.get<RedisClient>(REDIS_CLIENT), env));

  app.useGlobalPipes(new SafeValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  setUpApiDocs(app);
  await app.init();
}
