import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { connect, type AmqpConnectionManager } from 'amqp-connection-manager';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DependencyIndicator } from '@taskit/observability';

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

/**
 * Optional in both services (docs/operations.md, Readiness): while the broker is away the
 * gateway's events wait in the outbox and the worker's in the queue, so the pods keep serving
 * and report `degraded`. The connection's own state, no round trip: heartbeats keep it current.
 */
@Injectable()
export class RabbitMqHealthIndicator implements DependencyIndicator {
  readonly name = 'rabbitmq';
  readonly required = false;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(AMQP_CONNECTION) private readonly connection: AmqpConnectionManager,
  ) {}

  check() {
    const session = this.health.check(this.name);
    return Promise.resolve(
      this.connection.isConnected() ? session.up() : session.down('not connected'),
    );
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
