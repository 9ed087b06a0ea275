import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ClientRMQ, RmqRecordBuilder } from '@nestjs/microservices';
import {
  ANALYTICS_RPC_QUEUE,
  ANALYTICS_SUMMARY_PATTERN,
  type Summary,
  type SummaryRequest,
} from '@taskit/contracts';
import { headersFor, inSpan } from '@taskit/observability';
import { context, SpanKind } from '@opentelemetry/api';
import { firstValueFrom, timeout } from 'rxjs';

/** The analytics service could not answer in time (or at all). */
export class AnalyticsUnavailableError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
    this.name = 'AnalyticsUnavailableError';
  }
}

/**
 * Why a connect failed, for the log. Nest's RMQ client rejects with amqp-connection-manager's
 * event (`{ err, url }`), not an Error; its url may carry the broker's credentials.
 */
export function connectFailureReason(failure: unknown): string {
  const cause = failure instanceof Error ? failure : (failure as { err?: unknown } | null)?.err;
  if (cause instanceof Error) return cause.message;
  return typeof failure === 'string' ? failure : 'unknown error';
}

/**
 * Nest's RMQ ClientProxy for `analytics.summary` on queue analytics.rpc. `noAssert`: the
 * queue belongs to the shared topology (libs/messaging), declared by both services, so the
 * client never re-declares it with other arguments. Replies come over direct reply-to, with
 * the transport's auto-ack on the reply consumer. `send()` has no timeout of its own: every
 * call gets an rxjs `timeout`, and the request expires in the queue at the same moment, so
 * a backlog of requests nobody waits for does not build up while analytics is down.
 */
export class AnalyticsClient implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AnalyticsClient.name);
  private readonly client: ClientRMQ;
  private connecting?: Promise<void>;

  constructor(
    rabbitmqUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.client = new ClientRMQ({
      urls: [rabbitmqUrl],
      queue: ANALYTICS_RPC_QUEUE,
      noAssert: true,
      socketOptions: {
        heartbeatIntervalInSeconds: 10,
        reconnectTimeInSeconds: 1,
        connectionOptions: { clientProperties: { connection_name: 'taskit-gateway-rpc' } },
      },
    });
  }

  onApplicationBootstrap(): void {
    // Connect early so the first request does not pay for it; failures retry on first use.
    this.connecting = this.client
      .connect()
      .then(() => undefined)
      .catch((failure: unknown) =>
        this.logger.warn(`analytics RPC client: ${connectFailureReason(failure)}`),
      );
  }

  async onApplicationShutdown(): Promise<void> {
    // Closing while the reply channel is still being set up makes amqp-connection-manager
    // emit an 'error' that Nest's client does not listen for, and the process dies with exit
    // code 1 (a SIGTERM right after start). So let a connect under way finish first, briefly.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connecting,
      new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
    ]);
    clearTimeout(timer);
    await this.client.close();
  }

  /** A client span around the round trip; the request's headers carry its `traceparent`. */
  summary(request: SummaryRequest): Promise<Summary> {
    return inSpan(
      `send ${ANALYTICS_SUMMARY_PATTERN}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'send',
          'messaging.destination.name': ANALYTICS_RPC_QUEUE,
        },
      },
      () => this.call(request, headersFor(context.active())),
    );
  }

  private async call(request: SummaryRequest, headers: Record<string, string>): Promise<Summary> {
    const record = new RmqRecordBuilder(request)
      .setOptions({
        expiration: String(this.timeoutMs),
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      })
      .build();
    try {
      return await firstValueFrom(
        this.client
          .send<Summary, typeof record>(ANALYTICS_SUMMARY_PATTERN, record)
          .pipe(timeout({ first: this.timeoutMs })),
      );
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new AnalyticsUnavailableError(
        timedOut
          ? `analytics did not answer within ${this.timeoutMs} ms`
          : `analytics could not answer: ${error instanceof Error ? error.message : String(error)}`,
        timedOut,
      );
    }
  }
}
