import type { NestExpressApplication } from '@nestjs/platform-express';
import type { GatewayEnvironment } from './config/gateway-environment';

/**
 * Everything applied to the Nest application outside the module graph (HTTP middleware,
 * global pipes), in one place so that main.ts and the e2e tests run the same gateway.
 */
export function configureGateway(app: NestExpressApplication, env: GatewayEnvironment): void {
  app.disable('x-powered-by');
  // Behind the GKE load balancer the client address and scheme come from X-Forwarded-*.
  if (env.isProduction) app.set('trust proxy', 1);
}
