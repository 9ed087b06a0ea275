import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { loadEnvironmentOrExit } from '@taskit/config';
import { installGracefulShutdown } from '@taskit/observability';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureGateway, GATEWAY_APP_OPTIONS, gatewayHttpAdapter } from './bootstrap';
import { GatewayEnvironment } from './config/gateway-environment';

async function bootstrap(): Promise<void> {
  const env = loadEnvironmentOrExit(GatewayEnvironment);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(env),
    gatewayHttpAdapter(),
    { ...GATEWAY_APP_OPTIONS, bufferLogs: true },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  await configureGateway(app, env);
  installGracefulShutdown(app, logger, env.SHUTDOWN_TIMEOUT_MS);
  await app.listen(env.PORT);
  logger.log(`gateway listening on http://127.0.0.1:${env.PORT}`, 'Bootstrap');
}

void bootstrap();
