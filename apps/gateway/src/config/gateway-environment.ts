import { CommonEnvironment, IsMongoUri, IsUrlWithScheme } from '@taskit/config';
import { Type } from 'class-transformer';
import { IsInt, IsString, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';

/** Every setting of the gateway, validated at start-up (CONTRACT section 2). */
export class GatewayEnvironment extends CommonEnvironment {
  override PORT = 3000;

  @IsMongoUri()
  MONGODB_URI = 'mongodb://127.0.0.1:27017/taskit';

  /**
   * MongoDB connections per gateway process. On FerretDB 1.x/PostgreSQL the sum over every
   * client must stay below FerretDB's pool_max_conns (README, "The local stack").
   */
  @IsInt()
  @Min(1)
  @Max(500)
  @Type(() => Number)
  MONGODB_MAX_POOL_SIZE = 10;

  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Prefix of every Redis key this gateway writes, so that stacks can share one Redis. */
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'must be 1-64 letters, digits, ":", "_" or "-"' })
  REDIS_PREFIX = 'taskit:';

  /** Signs the session cookie. Required in production; a fixed development value otherwise. */
  @ValidateIf((env: GatewayEnvironment) => env.isProduction || env.SESSION_SECRET !== undefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  SESSION_SECRET?: string;

  /** How long the gateway waits for the analytics RPC before answering 503. */
  @IsInt()
  @Min(100)
  @Max(30_000)
  @Type(() => Number)
  ANALYTICS_RPC_TIMEOUT_MS = 2_000;

  /** Failed logins per account within the window before 429. */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  LOGIN_MAX_FAILURES_PER_ACCOUNT = 5;

  /** Failed logins per client address within the window before 429 (all accounts). */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  LOGIN_MAX_FAILURES_PER_CLIENT = 30;

  /** Length of the login-throttling window (and of a lock-out), in seconds. */
  @IsInt()
  @Min(1)
  @Max(86_400)
  @Type(() => Number)
  LOGIN_THROTTLE_WINDOW_SECONDS = 900;

  /** Lifetime of a cached task list in Redis (writes invalidate it at once anyway). */
  @IsInt()
  @Min(1)
  @Max(86_400)
  @Type(() => Number)
  TASK_LIST_CACHE_TTL_SECONDS = 60;

  get sessionSecret(): string {
    return this.SESSION_SECRET ?? 'taskit-development-session-secret-not-for-production';
  }
}
