import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { connect, type AmqpConnectionManager } from 'amqp-connection-manager';
import type { HealthIndicator } from '@taskit/observability';

/** The process's one RabbitMQ connection; it reconnects by itself after a broker restart. */
export const AMQP_CONNECTION = Symbol('AMQP_CONNECTION');

export interface AmqpConnectionOptions {
  url: string;
  /** Shown in the broker's connection list, so operators can tell the services apart. */
  connectionName: string;
}

@Injectable()
class AmqpConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(AMQP_CONNECTION) private readonly connection: AmqpConnectionManager) {}

  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

@Injectable()
export class RabbitMqHealthIndicator implements HealthIndicator {
  readonly name = 'rabbitmq';

  constructor(@Inject(AMQP_CONNECTION) private readonly connection: AmqpConnectionManager) {}

  check(): Promise<void> {
    return this.connection.isConnected()
      ? Promise.resolve()
      : Promise.reject(new Error('not connected'));
  }
}

@Module({})
export class AmqpModule {
  static forRoot(options: AmqpConnectionOptions): DynamicModule {
    const logger = new Logger('RabbitMQ');
    return {
      module: AmqpModule,
      global: true,
      providers: [
        {
          provide: AMQP_CONNECTION,
          useFactory: () => {
            const connection = connect([options.url], {
              heartbeatIntervalInSeconds: 10,
              reconnectTimeInSeconds: 1,
              connectionOptions: { clientProperties: { connection_name: options.connectionName } },
            });
            connection.on('connect', () => logger.log('connected'));
            connection.on('disconnect', ({ err }) =>
              logger.warn(`disconnected: ${err?.message ?? 'closed'}`),
            );
            return connection;
          },
        },
        AmqpConnectionCloser,
      ],
      exports: [AMQP_CONNECTION],
    };
  }
}
