import { Global, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InfluxDB } from '@influxdata/influxdb-client';
import { HealthIndicatorService } from '@nestjs/terminus';
import { boundedAttempt, type DependencyIndicator } from '@taskit/observability';
import type { AnalyticsEnvironment } from '../config/analytics-environment';

export const INFLUX_CLIENT = Symbol('INFLUX_CLIENT');

/**
 * Optional (docs/operations.md, Readiness): while InfluxDB is away the worker keeps its batch
 * unacknowledged and the rest waits in the queue; the pod stays ready and reports `degraded`.
 */
@Injectable()
export class InfluxHealthIndicator implements DependencyIndicator {
  readonly name = 'influxdb';
  readonly required = false;
  private readonly pingUrl: string;

  constructor(
    private readonly health: HealthIndicatorService,
    config: ConfigService<AnalyticsEnvironment, true>,
  ) {
    this.pingUrl = new URL('/ping', config.get('INFLUX_URL', { infer: true })).toString();
  }

  check() {
    return boundedAttempt(
      this.health.check(this.name).attempt(async ({ signal }) => {
        // /ping answers 204 on InfluxDB 1.8, 2.x and 3.
        const response = await fetch(this.pingUrl, { signal });
        if (!response.ok) throw new Error(`ping answered ${response.status}`);
      }),
    );
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
