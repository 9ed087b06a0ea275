import { Global, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InfluxDB } from '@influxdata/influxdb-client';
import type { HealthIndicator } from '@taskit/observability';
import type { AnalyticsEnvironment } from '../config/analytics-environment';

export const INFLUX_CLIENT = Symbol('INFLUX_CLIENT');

@Injectable()
export class InfluxHealthIndicator implements HealthIndicator {
  readonly name = 'influxdb';
  private readonly pingUrl: string;

  constructor(config: ConfigService<AnalyticsEnvironment, true>) {
    this.pingUrl = new URL('/ping', config.get('INFLUX_URL', { infer: true })).toString();
  }

  async check(): Promise<void> {
    // /ping answers 204 on InfluxDB 1.8 and 2.x alike.
    const response = await fetch(this.pingUrl, { signal: AbortSignal.timeout(1_500) });
    if (!response.ok) throw new Error(`ping answered ${response.status}`);
  }
}

@Global()
@Module({
  providers: [
    {
      provide: INFLUX_CLIENT,
      inject: [ConfigService],
      useFactory: (config: ConfigService<AnalyticsEnvironment, true>) =>
        new InfluxDB({
          url: config.get('INFLUX_URL', { infer: true }),
          token: config.get('INFLUX_TOKEN', { infer: true }),
          timeout: 10_000,
        }),
    },
  ],
  exports: [INFLUX_CLIENT],
})
export class InfluxModule {}
