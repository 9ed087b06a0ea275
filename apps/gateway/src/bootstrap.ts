import type { INestApplication } from '@nestjs/common';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { REQUEST_BODY_MAX_BYTES } from '@taskit/contracts';
import { serveMetricsOnOwnPort } from '@taskit/observability';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { AuthModule } from './auth/auth.module';
import { CSRF_SECURITY_SCHEME, SESSION_SECURITY_SCHEME } from './auth/csrf';
import { AllExceptionsFilter } from './common/all-exceptions.filter';
import { ErrorView, withErrorBodies } from './common/error.view';
import { SafeValidationPipe } from './common/safe-validation.pipe';
import type { GatewayEnvironment } from './config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from './redis/redis.module';
import { createSessionMiddleware, sessionCookieName } from './session/session.middleware';
import { AnalyticsSummaryModule } from './analytics-summary/analytics-summary.module';
import { TasksModule } from './tasks/tasks.module';

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

/**
 * The OpenAPI document of the JSON API, generated from the controllers' decorators. Exact
 * enough to type a client: libs/contracts/src/openapi/gateway-api.d.ts is generated from it
 * (docs/api.md, "The OpenAPI document").
 */
export function createApiDocument(
  app: INestApplication,
  env: Pick<GatewayEnvironment, 'httpsOnly'>,
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Taskit gateway')
    .setDescription(
      'Session cookie authentication; state-changing requests need X-CSRF-Token (docs/api.md).',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'this gateway')
    .addCookieAuth(sessionCookieName(env), { type: 'apiKey' }, SESSION_SECURITY_SCHEME)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-CSRF-Token',
        description: 'The csrfToken of the latest auth response (or of GET /api/auth/me)',
      },
      CSRF_SECURITY_SCHEME,
    )
    .addSecurityRequirements(SESSION_SECURITY_SCHEME)
    .build();
  // The JSON API only: the probes, /metrics and the pages are not part of it.
  const document = SwaggerModule.createDocument(app, config, {
    include: [AuthModule, TasksModule, AnalyticsSummaryModule],
    extraModels: [ErrorView],
  });
  return withErrorBodies(document);
}

function setUpApiDocs(app: NestExpressApplication, env: GatewayEnvironment): void {
  SwaggerModule.setup(API_DOCS_PATH, app, () => createApiDocument(app, env), {
    jsonDocumentUrl: `${API_DOCS_PATH}/openapi.json`,
  });
}

/**
 * The gateway speaks JSON only (docs/api.md): any other request body is a 415, whatever the
 * path, so that no spelling of a path lets a form or text/plain body reach a handler.
 */
function requireJsonBodies(req: Request, res: Response, next: NextFunction): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined ||
    Number(req.headers['content-length'] ?? 0) > 0;
  if (hasBody && !req.is('application/json')) {
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
 * The Express instance the gateway runs on. Routing is case-sensitive and strict, so that a
 * path matches a route only as written (`/API/tasks`, `/api/tasks/` and `//api/tasks` are
 * 404): every rule tied to a route (CSRF, the exemptions, guards) then holds for every request
 * that reaches it. Must be set before the router exists, hence on a fresh instance.
 */
export function gatewayHttpAdapter(): ExpressAdapter {
  const instance = express();
  instance.set('case sensitive routing', true);
  instance.set('strict routing', true);
  return new ExpressAdapter(instance);
}

/**
 * Nest's options for the gateway: no default body parsers (they include the urlencoded one);
 * configureGateway installs the JSON parser alone.
 */
export const GATEWAY_APP_OPTIONS = { bodyParser: false } as const;

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
  // The only body parser (GATEWAY_APP_OPTIONS turns Nest's defaults off): 16 KiB, and its
  // errors (400 malformed JSON, 413 too large) are mapped by Nest and shaped by AllExceptionsFilter.
  app.useBodyParser('json', { limit: REQUEST_BODY_MAX_BYTES });

  app.use(createSessionMiddleware(app.get<RedisClient>(REDIS_CLIENT), env));

  app.useGlobalPipes(new SafeValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  if (env.apiDocs) setUpApiDocs(app, env);
  // The scraper's own port; the public one then answers 404 for /metrics.
  if (env.METRICS_PORT !== undefined) await serveMetricsOnOwnPort(app, env.METRICS_PORT);
  await app.init();
}
