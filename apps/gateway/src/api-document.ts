import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { validateEnvironment } from '@taskit/config';
import { AppModule } from './app.module';
import { createApiDocument, GATEWAY_APP_OPTIONS, gatewayHttpAdapter } from './bootstrap';
import { GatewayEnvironment } from './config/gateway-environment';

/**
 * The OpenAPI document the gateway serves, built without a server or a backing service: in
 * Nest's preview mode the module graph is resolved but no provider is instantiated, so no
 * connection is opened (https://docs.nestjs.com/devtools/overview#preview-mode). The default
 * settings apply; only the session cookie's name in the document depends on them.
 * `npm run api:types` generates the typed client's paths from it (docs/api.md).
 */
export async function buildApiDocument(
  raw: Record<string, string | undefined> = {},
): Promise<OpenAPIObject> {
  const env = validateEnvironment(GatewayEnvironment, raw);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(env),
    gatewayHttpAdapter(),
    { ...GATEWAY_APP_OPTIONS, preview: true, logger: false },
  );
  try {
    return createApiDocument(app, env);
  } finally {
    await app.close();
  }
}
