import {
  Controller,
  Get,
  Global,
  Header,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** The app's own Prometheus registry: feature modules register their metrics on it. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** `http_request_duration_seconds` by route template and status code. */
export const HTTP_REQUEST_DURATION = Symbol('HTTP_REQUEST_DURATION');
export type HttpDurationHistogram = Histogram<'method' | 'route' | 'status_code'>;

@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@Inject(HTTP_REQUEST_DURATION) private readonly duration: HttpDurationHistogram) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const end = this.duration.startTimer();
    res.once('finish', () => {
      // The route template (not the raw URL) keeps the label set bounded.
      const matched = req.route as { path?: string } | undefined;
      const route = matched?.path ? `${req.baseUrl}${matched.path}` : 'unmatched';
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  }
}

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: METRICS_REGISTRY,
      useFactory: () => {
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        return registry;
      },
    },
    {
      provide: HTTP_REQUEST_DURATION,
      inject: [METRICS_REGISTRY],
      useFactory: (registry: Registry): HttpDurationHistogram =>
        new Histogram({
          name: 'http_request_duration_seconds',
          help: 'HTTP request duration by route template and status code',
          labelNames: ['method', 'route', 'status_code'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
          registers: [registry],
        }),
    },
  ],
  exports: [METRICS_REGISTRY],
})
export class MetricsModule implements NestModule {
  /**
   * The registry and the request histogram; `/metrics` on the application's own port unless
   * `ownPort` is set (METRICS_PORT), where serveMetricsOnOwnPort serves it instead and the
   * main port, which the load balancer exposes, has no such route at all.
   */
  static register(options: { ownPort?: number } = {}): DynamicModule {
    return {
      module: MetricsModule,
      controllers: options.ownPort === undefined ? [MetricsController] : [],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*');
  }
}
