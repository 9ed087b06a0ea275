import {
  API_RATE_LIMIT_DEFAULTS,
  CommonEnvironment,
  DEFAULT_TASK_LIST_CACHE_TTL_SECONDS,
  IsMongoUri,
  IsUrlWithScheme,
} from '@taskit/config';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

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

  /** Length of the API rate-limit window, in seconds (docs/limits.md). */
  @IsInt()
  @Min(1)
  @Max(3_600)
  @Type(() => Number)
  API_RATE_LIMIT_WINDOW_SECONDS: number = API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_WINDOW_SECONDS;

  /** API requests per logged-in user within the window before 429. */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_RATE_LIMIT_PER_USER: number = API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_USER;

  /** API requests per client address within the window before 429 (all accounts behind it). */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_RATE_LIMIT_PER_CLIENT: number = API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_CLIENT;

  /** Bulk operations (toggle-all, clear-completed) per user within the window before 429. */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_RATE_LIMIT_BULK_PER_USER: number = API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_BULK_PER_USER;

  /** Lifetime of a cached task list in Redis (writes invalidate it at once anyway). */
  @IsInt()
  @Min(1)
  @Max(86_400)
  @Type(() => Number)
  TASK_LIST_CACHE_TTL_SECONDS = DEFAULT_TASK_LIST_CACHE_TTL_SECONDS;

  /** A task-list page larger than this (UTF-8 bytes of its body) is answered but not cached. */
  @IsInt()
  @Min(1_024)
  @Max(16 * 1024 * 1024)
  @Type(() => Number)
  TASK_LIST_CACHE_MAX_BYTES = 262_144;

  /** Live tasks one account may keep; a create beyond it is a 409 (docs/configuration.md). */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  @Type(() => Number)
  TASKS_PER_USER_MAX = 5_000;

  /**
   * How many proxies in front of the gateway append to X-Forwarded-For, so that `req.ip` (and
   * the per-client login limit) is the real client: 2 behind GKE's external Application Load
   * Balancer (the Google front end connects, and appends the client and its forwarding rule's
   * address), `false` when clients connect directly. Unset: 1 in production, off otherwise.
   */
  @IsOptional()
  @Matches(/^(false|[1-9])$/, { message: 'must be false or a number of proxies from 1 to 9' })
  TRUST_PROXY?: string;

  /**
   * Browsers reach the gateway over HTTPS only (TLS at the load balancer): send HSTS and
   * upgrade-insecure-requests. Unset: in production. `false` for plain-HTTP deployments.
   */
  @IsOptional()
  @IsIn(['true', 'false'])
  HTTPS_ONLY?: 'true' | 'false';

  /** Express's `trust proxy` value. */
  get trustProxy(): number | false {
    if (this.TRUST_PROXY === undefined) return this.isProduction ? 1 : false;
    return this.TRUST_PROXY === 'false' ? false : Number(this.TRUST_PROXY);
  }

  get httpsOnly(): boolean {
    return this.HTTPS_ONLY === undefined ? this.isProduction : this.HTTPS_ONLY === 'true';
  }

  get sessionSecret(): string {
    return this.SESSION_SECRET ?? 'taskit-development-session-secret-not-for-production';
  }
}
