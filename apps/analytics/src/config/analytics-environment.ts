import {
  CommonEnvironment,
  INGEST_DEFAULTS,
  IsUrlWithScheme,
  ReadableFromFile,
} from '@taskit/config';
import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';

/** Every setting of the analytics service, validated at start-up (docs/configuration.md). */
export class AnalyticsEnvironment extends CommonEnvironment {
  override PORT = 3001;

  @IsUrlWithScheme(['http', 'https'])
  INFLUX_URL = 'http://127.0.0.1:8086';

  /** InfluxDB 2 API token; InfluxDB 1.8 with auth off ignores it, with auth it is `user:password`. */
  @ReadableFromFile()
  @IsString()
  INFLUX_TOKEN = '';

  @IsString()
  @MinLength(1)
  INFLUX_ORG = 'taskit';

  /** `taskit` on InfluxDB 2; `taskit/autogen` (database/retention policy) on InfluxDB 1.8. */
  @IsString()
  @MinLength(1)
  INFLUX_BUCKET = 'taskit';

  /** Most points written to InfluxDB in one request (one batch in flight at a time). */
  @IsInt()
  @Min(1)
  @Max(5_000)
  INGEST_BATCH_SIZE: number = INGEST_DEFAULTS.INGEST_BATCH_SIZE;

  /** Unacked deliveries the worker's consumer may hold (per-consumer QoS); ≥ 2 batches. */
  @IsInt()
  @Min(1)
  @Max(20_000)
  INGEST_PREFETCH: number = INGEST_DEFAULTS.INGEST_PREFETCH;

  /** How long a partial batch waits for more events before it is written. */
  @IsInt()
  @Min(0)
  @Max(10_000)
  INGEST_BATCH_WAIT_MS: number = INGEST_DEFAULTS.INGEST_BATCH_WAIT_MS;

  /**
   * Summary requests this process works on at once (the RPC consumer's prefetch): more wait
   * in analytics.rpc and expire there with the gateway's timeout (docs/limits.md).
   */
  @IsInt()
  @Min(1)
  @Max(100)
  ANALYTICS_RPC_PREFETCH: number = 4;

  /**
   * Largest task-event message body the worker parses, in bytes; a larger one is
   * dead-lettered unread (a contract event is about 300 bytes; docs/limits.md).
   */
  @IsInt()
  @Min(1_024)
  @Max(1_048_576)
  INGEST_MAX_MESSAGE_BYTES: number = 16_384;

  /** Longest pause between attempts while InfluxDB refuses or cannot be reached. */
  @IsInt()
  @Min(100)
  @Max(60_000)
  INGEST_MAX_BACKOFF_MS: number = 5_000;
}
