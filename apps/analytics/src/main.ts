import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { loadEnvironmentOrExit } from '@taskit/config';
import { ANALYTICS_RPC_QUEUE } from '@taskit/contracts';
import { ANALYTICS_RPC_QUEUE_OPTIONS } from '@taskit/messaging';
import { installGracefulShutdown, serveMetricsOnOwnPort } from '@taskit/observability';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { AnalyticsEnvironment } from './config/analytics-environment';

async function bootstrap(): Promise<void> {
  const env = loadEnvironmentOrExit(AnalyticsEnvironment);
  // HTTP serves only /health/* and /metrics; the work arrives over RabbitMQ.
  const app = await NestFactory.create(AppModule.forRoot(env), { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  // The RPC server (analytics.summary). It asserts analytics.rpc with exactly the options of
  // the shared topology. Manual acks with a prefetch: RabbitMQ ignores the prefetch of an
  // auto-ack consumer, so only this bounds the summary queries running at once; the handler
  // acks once its reply is sent (summary/summary.controller.ts). Requests beyond it wait in the queue
  // and expire with the gateway's timeout. Task events do not come through here: the ingest
  // module consumes them with manual acks.
  app.connectMicroservice<MicroserviceOptions>(
    {
      transport: Transport.RMQ,
      options: {
        urls: [env.RABBITMQ_URL],
        queue: ANALYTICS_RPC_QUEUE,
        queueOptions: { ...ANALYTICS_RPC_QUEUE_OPTIONS },
        noAck: false,
        prefetchCount: env.ANALYTICS_RPC_PREFETCH,
        socketOptions: { heartbeatIntervalInSeconds: 10, reconnectTimeInSeconds: 1 },
      },
    },
    { inheritAppConfig: true },
  );
  installGracefulShutdown(app, logger, env.SHUTDOWN_TIMEOUT_MS);
  await app.startAllMicroservices();
  if (env.METRICS_PORT !== undefined) await serveMetricsOnOwnPort(app, env.METRICS_PORT);
  await app.listen(env.PORT);
  logger.log(`analytics listening on http://127.0.0.1:${env.PORT}`, 'Bootstrap');
}

void bootstrap();
