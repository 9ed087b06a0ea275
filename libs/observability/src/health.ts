import {
  Controller,
  Get,
  Header,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  Module,
  Res,
  ServiceUnavailableException,
  type DynamicModule,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import {
  HealthCheckService,
  TerminusModule,
  type HealthCheckAttempt,
  type HealthCheckResult,
  type HealthCheckStatus,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import type { Response } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.ts';

/**
 * One backing service that readiness reports on. The rule that decides `required`
 * (docs/operations.md, Readiness): a dependency makes the pod unready only when no request the
 * pod serves can succeed without it and nothing holds the work until it is back. Any other
 * dependency that is down leaves the pod ready and the answer `degraded`.
 */
export interface DependencyIndicator {
  /** Its key in the result, and the `dependency` label of `taskit_dependency_up`. */
  readonly name: string;
  readonly required: boolean;
  /** Terminus' result for the dependency (`up` or `down`, with a message for the log). */
  check(): PromiseLike<HealthIndicatorResult>;
}

/** A backend check answers within this, whatever the backend does. */
export const DEPENDENCY_CHECK_TIMEOUT_MS = 1_000;
/** A burst of probes pings each backend at most once per this interval. */
export const DEPENDENCY_CHECK_CACHE_MS = 1_000;

/** The deadline and the shared cache every check that talks to a backend uses. */
export function boundedAttempt<Key extends string>(
  attempt: HealthCheckAttempt<Key>,
): HealthCheckAttempt<Key> {
  return attempt.withTimeout(DEPENDENCY_CHECK_TIMEOUT_MS).cacheFor(DEPENDENCY_CHECK_CACHE_MS);
}

export const DEPENDENCY_INDICATORS = Symbol('DEPENDENCY_INDICATORS');

/** Set when SIGTERM arrives, so that readiness fails and load balancers stop routing here. */
@Injectable()
export class ShutdownState {
  private draining = false;

  begin(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }
}

/** What `/health/ready` shows the public: the status only, never a dependency's error. */
export interface ReadinessAnswer {
  status: HealthCheckStatus;
}

/**
 * Runs the dependency checks through Terminus, turns an optional dependency's `down` into
 * `degraded`, keeps `taskit_dependency_up` current and logs each change of a dependency's
 * state with its reason (the probe's answer carries none: it would show internal addresses).
 */
@Injectable()
export class ReadinessService {
  private readonly logger = new Logger('Readiness');
  private readonly last = new Map<string, string>();

  constructor(
    private readonly health: HealthCheckService,
    @Inject(DEPENDENCY_INDICATORS) private readonly indicators: DependencyIndicator[],
    private readonly shutdown: ShutdownState,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    const evaluate = () => this.evaluate();
    new Gauge({
      name: 'taskit_dependency_up',
      help: 'Whether a backing service answers its check (1) or not (0); required ones gate readiness',
      labelNames: ['dependency', 'required'],
      registers: [registry],
      async collect() {
        const result = await evaluate();
        for (const indicator of indicators) {
          const status = result.details[indicator.name]?.status;
          this.set(
            { dependency: indicator.name, required: String(indicator.required) },
            status === 'up' ? 1 : 0,
          );
        }
      },
    });
  }

  async evaluate(): Promise<HealthCheckResult> {
    const result = await this.health
      .check(this.indicators.map((indicator) => () => this.checkOne(indicator)))
      .catch((error: unknown) => {
        if (error instanceof ServiceUnavailableException) {
          return error.getResponse() as HealthCheckResult;
        }
        throw error;
      });
    this.logChanges(result);
    return this.shutdown.isDraining ? { ...result, status: 'shutting_down' } : result;
  }

  private async checkOne(indicator: DependencyIndicator): Promise<HealthIndicatorResult> {
    const result = await indicator.check();
    const { status, ...data } = result[indicator.name];
    if (status !== 'down' || indicator.required) return result;
    return { [indicator.name]: { ...data, status: 'degraded' } };
  }

  private logChanges(result: HealthCheckResult): void {
    for (const [name, detail] of Object.entries(result.details)) {
      const previous = this.last.get(name);
      if (previous === detail.status) continue;
      this.last.set(name, detail.status);
      const reason = typeof detail.message === 'string' ? `: ${detail.message}` : '';
      if (detail.status === 'up') {
        if (previous !== undefined) this.logger.log(`${name} up again`);
      } else {
        this.logger.warn(`${name} ${detail.status}${reason}`);
      }
    }
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): ReadinessAnswer {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessAnswer> {
    const { status } = await this.readiness.evaluate();
    const serving = status === 'ok' || status === 'degraded';
    res.status(serving ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status };
  }
}

export interface HealthModuleOptions {
  imports?: ModuleMetadata['imports'];
  indicators: Type<DependencyIndicator>[];
}

/** `/health/live` and `/health/ready` over the given dependency indicators, on Terminus. */
@Module({})
export class HealthModule {
  static register(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      // ReadinessService logs each change itself, with the reason Terminus would print per probe.
      imports: [TerminusModule.forRoot({ logger: false }), ...(options.imports ?? [])],
      controllers: [HealthController],
      providers: [
        ShutdownState,
        ReadinessService,
        ...options.indicators,
        {
          provide: DEPENDENCY_INDICATORS,
          useFactory: (...indicators: DependencyIndicator[]) => indicators,
          inject: options.indicators,
        },
      ],
      exports: [ShutdownState, ReadinessService],
    };
  }
}
