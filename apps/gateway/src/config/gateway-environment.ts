import {
  API_RATE_LIMIT_DEFAULTS,
  CommonEnvironment,
  DEFAULT_TASK_LIST_CACHE_TTL_SECONDS,
  IsMongoUri,
  IsUrlWithScheme,
  ReadableFromFile,
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
  ValidateIf,
  ValidatorConstraint,
  Validate,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import {
  SESSION_SECRET_MIN_LENGTH,
  sessionSecretsOf,
  weakSessionSecretReason,
} from './session-secrets';

const DEVELOPMENT_SESSION_SECRET = 'taskit-development-session-secret-not-for-production';

/** Every secret long enough; in production also none published, placeholder or guessable. */
@ValidatorConstraint({ name: 'sessionSecrets' })
class SessionSecretsConstraint implements ValidatorConstraintInterface {
  private reason = '';

  validate(value: unknown, args: ValidationArguments): boolean {
    const secrets = typeof value === 'string' ? sessionSecretsOf(value) : [];
    if (secrets.length === 0) {
      this.reason = 'must name at least one secret';
      return false;
    }
    const production = (args.object as GatewayEnvironment).isProduction;
    for (const secret of secrets) {
      const reason = production
        ? weakSessionSecretReason(secret)
        : secret.length < SESSION_SECRET_MIN_LENGTH
          ? `each secret must be at least ${SESSION_SECRET_MIN_LENGTH} characters`
          : undefined;
      if (reason) {
        this.reason = reason;
        return false;
      }
    }
    return true;
  }

  defaultMessage(): string {
    return this.reason;
  }
}

export interface RegistrationLimits {
  perClient: number;
  total: number;
  windowSeconds: number;
}

/** The sign-up limits of a set of settings (also as ConfigService holds them, without getters). */
export function registrationLimitsOf(
  settings: Pick<
    GatewayEnvironment,
    | 'NODE_ENV'
    | 'REGISTRATION_MAX_PER_CLIENT'
    | 'REGISTRATION_MAX_TOTAL'
    | 'REGISTRATION_WINDOW_SECONDS'
  >,
): RegistrationLimits {
  const production = settings.NODE_ENV === 'production';
  return {
    perClient: settings.REGISTRATION_MAX_PER_CLIENT ?? (production ? 10 : 10_000),
    total: settings.REGISTRATION_MAX_TOTAL ?? (production ? 300 : 100_000),
    windowSeconds: settings.REGISTRATION_WINDOW_SECONDS,
  };
}

/** Every setting of the gateway, validated at start-up (docs/configuration.md). */
export class GatewayEnvironment extends CommonEnvironment {
  override PORT = 3000;

  @ReadableFromFile()
  @IsMongoUri()
  MONGODB_URI = 'mongodb://127.0.0.1:27017/taskit';

  /**
   * MongoDB connections per gateway process: the relay's settles (2) and the bulk writes (4)
   * take at most 6, requests keep the rest (docs/limits.md). On FerretDB 1.x/PostgreSQL what
   * they hold of FerretDB's pool_max_conns, summed over every client, must stay below it
   * (docs/local-stack.md).
   */
  @IsInt()
  @Min(1)
  @Max(500)
  @Type(() => Number)
  MONGODB_MAX_POOL_SIZE = 20;

  /** Sessions, rate-limit counters, locks and the cache's version counters: never evicted. */
  @ReadableFromFile()
  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * The task-list cache's pages only, on an instance that may evict them (an evicted page is a
   * miss); REDIS_URL's instance when unset (docs/deployment.md, Redis).
   */
  @ReadableFromFile()
  @IsOptional()
  @IsUrlWithScheme(['redis', 'rediss'])
  REDIS_CACHE_URL?: string;

  /** PEM of the CA that signed the Redis servers' certificates, for `rediss://` URLs. */
  @ReadableFromFile()
  @IsOptional()
  @Matches(/-----BEGIN CERTIFICATE-----/, { message: 'must hold a PEM certificate' })
  REDIS_TLS_CA?: string;

  /** Prefix of every Redis key this gateway writes, so that stacks can share one Redis. */
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]{1,64}$/, { message: 'must be 1-64 letters, digits, ":", "_" or "-"' })
  REDIS_PREFIX = 'taskit:';

  /**
   * Signs the session cookie: one secret, or several separated by commas for a rotation (the
   * first signs, every one verifies). Required in production, where published, placeholder and
   * guessable values are refused; a fixed development value otherwise.
   */
  @ReadableFromFile()
  @ValidateIf((env: GatewayEnvironment) => env.isProduction || env.SESSION_SECRET !== undefined)
  @IsString()
  @Validate(SessionSecretsConstraint)
  SESSION_SECRET?: string;

  /** A session ends this long after its login, however active (the idle limit is a day). */
  @IsInt()
  @Min(1)
  @Max(90 * 86_400)
  @Type(() => Number)
  SESSION_ABSOLUTE_LIFETIME_SECONDS = 7 * 86_400;

  /** How long the gateway waits for the analytics RPC before answering 503. */
  @IsInt()
  @Min(100)
  @Max(30_000)
  @Type(() => Number)
  ANALYTICS_RPC_TIMEOUT_MS = 2_000;

  /** Failed logins per account from one client address within the window before 429. */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT = 5;

  /**
   * Failed logins per account from all addresses within the window before 429: a distributed
   * guess stops here, higher than the pair's limit so that one client cannot lock the owner out.
   */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  LOGIN_MAX_FAILURES_PER_ACCOUNT = 50;

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

  /**
   * API requests per logged-in user within any one second before 429: the window's budget
   * spread out, so that an account cannot spend it all in a burst (docs/limits.md).
   */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_RATE_LIMIT_PER_USER_PER_SECOND: number =
    API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_PER_USER_PER_SECOND;

  /**
   * API requests of one logged-in user one gateway pod works on at once; one more is a 429 at
   * once, so that one account's burst takes a pod's CPU and connections a few at a time
   * (docs/limits.md).
   */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_IN_FLIGHT_PER_USER: number = API_RATE_LIMIT_DEFAULTS.API_IN_FLIGHT_PER_USER;

  /** Bulk operations per user within any one second before 429. */
  @IsInt()
  @Min(1)
  @Type(() => Number)
  API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: number =
    API_RATE_LIMIT_DEFAULTS.API_RATE_LIMIT_BULK_PER_USER_PER_SECOND;

  /** Sign-ups per client address within the window before 429. Unset: 10 in production. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Type(() => Number)
  REGISTRATION_MAX_PER_CLIENT?: number;

  /** Sign-ups from all addresses within the window before 429. Unset: 300 in production. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Type(() => Number)
  REGISTRATION_MAX_TOTAL?: number;

  @IsInt()
  @Min(1)
  @Max(86_400)
  @Type(() => Number)
  REGISTRATION_WINDOW_SECONDS = 3_600;

  /** Serve the OpenAPI page and document at /api/docs. Unset: everywhere but production. */
  @IsOptional()
  @IsIn(['true', 'false'])
  API_DOCS?: 'true' | 'false';

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

  /** The secrets that verify session cookies, the signing one first. */
  get sessionSecrets(): string[] {
    return this.SESSION_SECRET === undefined
      ? [DEVELOPMENT_SESSION_SECRET]
      : sessionSecretsOf(this.SESSION_SECRET);
  }

  /** The secret that signs new session cookies. */
  get sessionSecret(): string {
    return this.sessionSecrets[0];
  }

  /**
   * Production stops a scripted sign-up run within a few dozen attempts; the local stack and
   * the test suites register an account per test, so elsewhere the defaults are loose.
   */
  get registrationLimits(): RegistrationLimits {
    return registrationLimitsOf(this);
  }

  get apiDocs(): boolean {
    return this.API_DOCS === undefined ? !this.isProduction : this.API_DOCS === 'true';
  }
}
