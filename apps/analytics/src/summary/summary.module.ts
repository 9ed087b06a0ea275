import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { targetOfBucket } from '@taskit/influx';
import type { AnalyticsEnvironment } from '../config/analytics-environment';
import { SummaryController } from './summary.controller';
import { SummaryService } from './summary.service';

@Module({
  controllers: [SummaryController],
  providers: [
    {
      provide: SummaryService,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AnalyticsEnvironment, true>) =>
        new SummaryService(
          targetOfBucket(
            config.get('INFLUX_URL', { infer: true }),
            config.get('INFLUX_TOKEN', { infer: true }),
            config.get('INFLUX_BUCKET', { infer: true }),
          ),
        ),
    },
  ],
})
export class SummaryModule {}
