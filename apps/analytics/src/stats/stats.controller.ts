import { Controller, Logger } from '@nestjs/common';
import { Ctx, MessagePattern, Payload, RpcException, type RmqContext } from '@nestjs/microservices';
import { SpanKind } from '@opentelemetry/api';
import { contextFromHeaders, inSpan } from '@taskit/observability';
import { ANALYTICS_SUMMARY_PATTERN, isSummaryRange, type Summary } from '@taskit/contracts';
import { SummaryService } from './summary.service';

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The analytics RPC over queue analytics.rpc (docs/api.md). */
@Controller()
export class StatsController {
  private readonly logger = new Logger(StatsController.name);

  constructor(private readonly summaries: SummaryService) {}

  /** Served in a span continuing the gateway's (the request's `traceparent` header). */
  @MessagePattern(ANALYTICS_SUMMARY_PATTERN)
  summary(@Payload() payload: unknown, @Ctx() rmq: RmqContext): Promise<Summary> {
    const message = rmq.getMessage() as { properties?: { headers?: Record<string, unknown> } };
    return inSpan(
      `process ${ANALYTICS_SUMMARY_PATTERN}`,
      { kind: SpanKind.SERVER, attributes: { 'messaging.system': 'rabbitmq' } },
      () => this.answer(payload),
      contextFromHeaders(message.properties?.headers),
    );
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
