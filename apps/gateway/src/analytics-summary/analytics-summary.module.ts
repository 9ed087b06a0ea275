import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { GatewayEnvironment } from '../config/gateway-environment';
import { AnalyticsClient } from './analytics-client';
import { AnalyticsSummaryController } from './analytics-summary.controller';

/** GET /api/analytics/summary: the analytics RPC behind a short Redis cache. */
@Module({
  controllers: [AnalyticsSummaryController],
  providers: [
    {
      provide: AnalyticsClient,
      inject: [ConfigService],
      useFactory: (config: ConfigService<GatewayEnvironment, true>) =>
        new AnalyticsClient(
          config.get('RABBITMQ_URL', { infer: true }),
          config.get('ANALYTICS_RPC_TIMEOUT_MS', { infer: true }),
        ),
    },
  ],
})
export class AnalyticsSummaryModule {}
