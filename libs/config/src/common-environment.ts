// Loaded before the decorators below run: they record the property types it converts to.
import 'reflect-metadata';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { TracingEnvironment } from './tracing-environment.ts';
import { ReadableFromFile } from './secret-files.ts';
import { IsUrlWithScheme } from './validators.ts';

export const NODE_ENVIRONMENTS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Settings every Taskit process reads (docs/configuration.md). */
export class CommonEnvironment extends TracingEnvironment {
  @IsIn(NODE_ENVIRONMENTS)
  NODE_ENV: (typeof NODE_ENVIRONMENTS)[number] = 'development';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @IsInt()
  @Min(1)
  @Max(65535)
  PORT!: number;

  /**
   * When set, /metrics is served on this port only (for the scraper; no Service or Ingress
   * routes it) instead of on PORT.
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  METRICS_PORT?: number;

  @ReadableFromFile()
  @IsUrlWithScheme(['amqp', 'amqps'])
  RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

  // Numbers need their type written out: it is what converts the environment string.
  /** How long a SIGTERM may take to finish in-flight work before the process exits anyway. */
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS: number = 10_000;

  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}
