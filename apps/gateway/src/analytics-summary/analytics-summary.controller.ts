import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Inject,
  Logger,
  Query,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { isSummaryRange, SUMMARY_RANGES, type Summary, type SummaryRange } from '@taskit/contracts';
import { CurrentUser } from '../session/current-user.decorator';
import { SessionGuard } from '../session/session.guard';
import type { SessionUser } from '../session/session-user';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { REDIS_CLIENT, type RedisClient } from '../redis/redis.module';
import { AnalyticsClient, AnalyticsUnavailableError } from './analytics-client';
import { SingleFlight } from './single-flight';
import { SummaryView } from './summary.view';

/** Seconds a summary is served from Redis before analytics is asked again. */
export const SUMMARY_CACHE_SECONDS = 5;

@ApiTags('analytics')
@Controller('api/analytics')
@UseGuards(SessionGuard)
export class AnalyticsSummaryController {
  private readonly logger = new Logger(AnalyticsSummaryController.name);
  private readonly prefix: string;
  private readonly flights = new SingleFlight<Summary>();

  constructor(
    private readonly analytics: AnalyticsClient,
    @Inject(REDIS_CLIENT) private readonly redis: RedisClient,
    config: ConfigService<GatewayEnvironment, true>,
  ) {
    this.prefix = `${config.get('REDIS_PREFIX', { infer: true })}analytics:summary:`;
  }

  /**
   * One summary per (user, range) is asked of analytics at a time on this pod: concurrent
   * requests share the cache read, the RPC and the cache write (docs/limits.md).
   */
  @Get('summary')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "The user's productivity over a range (docs/api.md, The Summary)" })
  @ApiQuery({ name: 'range', required: true, enum: SUMMARY_RANGES })
  @ApiOkResponse({
    type: SummaryView,
    description: 'Totals per event type and a series of aligned buckets',
  })
  @ApiBadRequestResponse({ description: 'Unknown range' })
  @ApiUnauthorizedResponse({ description: 'Not logged in' })
  @ApiTooManyRequestsResponse({ description: 'Rate limit reached (Retry-After)' })
  @ApiServiceUnavailableResponse({ description: 'The analytics service did not answer within 2 s' })
  summary(@CurrentUser() user: SessionUser, @Query('range') range: unknown): Promise<Summary> {
    if (!isSummaryRange(range)) {
      throw new BadRequestException(`range must be one of ${SUMMARY_RANGES.join(', ')}`);
    }
    const key = `${this.prefix}${user.id}:${range}`;
    return this.flights.run(key, () => this.cachedSummary(key, user.id, range));
  }

  private async cachedSummary(key: string, userId: string, range: SummaryRange): Promise<Summary> {
    const cached = await this.redis.get(key).catch((error: Error) => {
      this.logger.warn(`summary cache read: ${error.message}`);
      return null;
    });
    if (cached) return JSON.parse(cached) as Summary;

    let summary: Summary;
    try {
      summary = await this.analytics.summary({ userId, range });
    } catch (error) {
      if (error instanceof AnalyticsUnavailableError) {
        this.logger.warn(error.message);
        throw new ServiceUnavailableException(
          error.timedOut
            ? 'Analytics did not answer in time; try again shortly'
            : 'Analytics is unavailable; try again shortly',
        );
      }
      throw error;
    }
    await this.redis
      .set(key, JSON.stringify(summary), { EX: SUMMARY_CACHE_SECONDS })
      .catch((error: Error) => this.logger.warn(`summary cache write: ${error.message}`));
    return summary;
  }
}
