import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException, type RmqContext } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import { contextFromHeaders, inSpan, METRICS_REGISTRY } from '@taskit/observability';
import { ANALYTICS_SUMMARY_PATTERN, isSummaryRange, type Summary } from '@taskit/contracts';
import type { Channel, Message } from 'amqplib';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SummaryService } from './summary.service';

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

type Outcome = 'ok' | 'invalid' | 'failed';

/**
 * The analytics RPC over queue analytics.rpc (docs/api.md, The summary RPC). The consumer acks by hand
 * (main.ts) so that its prefetch bounds the queries in work: every request is acked once
 * answered, whatever the outcome.
 */
@Controller()
export class SummaryController {
  private readonly logger = new Logger(SummaryController.name);
  private readonly answered: Counter<'outcome'>;
  private readonly inFlight: Gauge;

  constructor(
    private readonly summaries: SummaryService,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.answered = new Counter({
      name: 'taskit_analytics_summary_requests_total',
      help: 'analytics.summary requests answered, by outcome (ok, invalid, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.inFlight = new Gauge({
      name: 'taskit_analytics_summary_requests_in_flight',
      help: 'analytics.summary requests being answered (at most ANALYTICS_RPC_PREFETCH)',
      registers: [registry],
    });
  }

  /** Served in a span continuing the gateway's (the request's `traceparent` header). */
  @MessagePattern(ANALYTICS_SUMMARY_PATTERN)
  async summary(@Payload() payload: unknown, @Ctx() rmq: RmqContext): Promise<Summary> {
    const message = rmq.getMessage() as Message;
    this.inFlight.inc();
    let outcome: Outcome = 'failed';
    try {
      const summary = await inSpan(
        `process ${ANALYTICS_SUMMARY_PATTERN}`,
        { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'rabbitmq' } },
        () => this.answer(payload),
        contextFromHeaders(message.properties.headers),
      );
      outcome = 'ok';
      return summary;
    } catch (error) {
      if (error instanceof RpcException && error.message.startsWith('invalid')) outcome = 'invalid';
      throw error;
    } finally {
      this.inFlight.dec();
      this.answered.inc({ outcome });
      this.acknowledgeAfterReply(rmq.getChannelRef() as Channel, message);
    }
  }

  /**
   * Nest sends the reply on the next tick after the handler settles (Server.send): the ack
   * goes after it. On a channel that has closed meanwhile the broker has requeued the request.
   */
  private acknowledgeAfterReply(channel: Channel, message: Message): void {
    setImmediate(() => {
      try {
        channel.ack(message);
      } catch (error) {
        this.logger.warn(`summary request not acked: ${(error as Error).message}`);
      }
    });
  }

  private async answer(payload: unknown): Promise<Summary> {
    const request = (payload ?? {}) as { userId?: unknown; range?: unknown };
    if (
      typeof request.userId !== 'string' ||
      !USER_ID.test(request.userId) ||
      !isSummaryRange(request.range)
    ) {
      throw new RpcException('invalid summary request: {userId, range: 1h|24h|7d|30d} expected');
    }
    try {
      return await this.summaries.summary(request.userId, request.range);
    } catch (error) {
      this.logger.warn(`summary query failed: ${(error as Error).message}`);
      throw new RpcException('InfluxDB could not answer the summary query');
    }
  }
}
