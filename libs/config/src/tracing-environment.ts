import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsUrlWithScheme } from './validators.ts';

const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The standard OpenTelemetry variables Taskit accepts (docs/tracing.md). The SDK reads them
 * itself; they are declared here so that a typo in a value stops the process at start-up like
 * every other setting. Tracing is on only when an OTLP endpoint is set and OTEL_SDK_DISABLED
 * is not `true`: by default nothing is started.
 */
export class TracingEnvironment {
  @IsOptional()
  @IsIn(['true', 'false'])
  OTEL_SDK_DISABLED?: 'true' | 'false';

  /** Base URL of the OTLP receiver (`/v1/traces` is appended for HTTP), e.g. http://127.0.0.1:4318. */
  @IsOptional()
  @IsUrlWithScheme(['http', 'https'])
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  /** Full URL for traces only; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  @IsOptional()
  @IsUrlWithScheme(['http', 'https'])
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;

  @IsOptional()
  @IsIn(['http/protobuf', 'http/json', 'grpc'])
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;

  /** `taskit-gateway` or `taskit-analytics` unless set (docs/tracing.md). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ".", "_" or "-"' })
  OTEL_SERVICE_NAME?: string;

  @IsOptional()
  @IsIn(TRACES_SAMPLERS)
  OTEL_TRACES_SAMPLER?: (typeof TRACES_SAMPLERS)[number];

  /** The ratio of the `*traceidratio` samplers, 0 to 1. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  @Type(() => Number)
  OTEL_TRACES_SAMPLER_ARG?: number;

  /** Longest wait of a finished span before it is exported (the SDK's default: 5000). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(60_000)
  @Type(() => Number)
  OTEL_BSP_SCHEDULE_DELAY?: number;

  get tracingEnabled(): boolean {
    const endpoint = this.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? this.OTEL_EXPORTER_OTLP_ENDPOINT;
    return endpoint !== undefined && this.OTEL_SDK_DISABLED !== 'true';
  }
}
