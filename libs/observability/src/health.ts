import {
  Controller,
  Get,
  Header,
  HttpStatus,
  Inject,
  Injectable,
  Module,
  Res,
  type DynamicModule,
  type ModuleMetadata,
  type Type,
} from '@nestjs/common';
import type { Response } from 'express';

/** One dependency that readiness reports on. `check` rejects when it is unusable. */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<void>;
}

export const HEALTH_INDICATORS = Symbol('HEALTH_INDICATORS');
const CHECK_TIMEOUT_MS = 2_000;

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

export interface DependencyStatus {
  status: 'up' | 'down';
  error?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'error';
  checks: Record<string, DependencyStatus>;
}

async function probe(indicator: HealthIndicator): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([indicator.check(), timeout]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HEALTH_INDICATORS) private readonly indicators: HealthIndicator[],
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) res: Response): Promise<ReadinessReport> {
    const results = await Promise.all(this.indicators.map(probe));
    const checks = Object.fromEntries(this.indicators.map((ind, i) => [ind.name, results[i]]));
    const ok = !this.shutdown.isDraining && results.every((r) => r.status === 'up');
    res.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'error', checks };
  }
}

export interface HealthModuleOptions {
  imports?: ModuleMetadata['imports'];
  indicators: Type<HealthIndicator>[];
}

/** `/health/live` and `/health/ready` over the given dependency indicators. */
@Module({})
export class HealthModule {
  static register(options: HealthModuleOptions): DynamicModule {
    return {
      module: HealthModule,
      global: true,
      imports: options.imports ?? [],
      controllers: [HealthController],
      providers: [
        ShutdownState,
        ...options.indicators,
        {
          provide: HEALTH_INDICATORS,
          useFactory: (...indicators: HealthIndicator[]) => indicators,
          inject: options.indicators,
        },
      ],
      exports: [ShutdownState],
    };
  }
}
