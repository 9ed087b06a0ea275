import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { InfluxDB } from '@influxdata/influxdb-client';
import type { AnalyticsEnvironment } from '../config/analytics-environment';
import { INFLUX_CLIENT } from '../influx/influx.module';
import { StatsController } from './stats.controller';
import { SummaryService } from './summary.service';

@Module({
  controllers: [StatsController],
  providers: [
    {
      provide: SummaryService,
      inject: [INFLUX_CLIENT, ConfigService],
      useFactory: (influx: InfluxDB, config: ConfigService<AnalyticsEnvironment, true>) =>
        new SummaryService(
          influx,
          config.get('INFLUX_ORG', { infer: true }),
          config.get('INFLUX_BUCKET', { infer: true }),
        ),
    },
  ],
})
export class StatsModule {}
