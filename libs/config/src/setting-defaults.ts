/**
 * Defaults of settings that the benchmark (plain Node, no decorators) needs as well: the
 * analytics worker's batching (AnalyticsEnvironment) and the gateway's task-list cache
 * lifetime (GatewayEnvironment). Defined once here.
 */
export const INGEST_DEFAULTS = {
  INGEST_BATCH_SIZE: 500,
  INGEST_PREFETCH: 1_000,
  INGEST_BATCH_WAIT_MS: 50,
} as const;

export const DEFAULT_TASK_LIST_CACHE_TTL_SECONDS = 60;

/**
 * The gateway's API rate limits in production (docs/limits.md): requests per window per
 * logged-in user, per client address, and bulk operations per user. The benchmark's
 * noisy-neighbour part runs with exactly these.
 */
export const API_RATE_LIMIT_DEFAULTS = {
  API_RATE_LIMIT_WINDOW_SECONDS: 60,
  API_RATE_LIMIT_PER_USER: 300,
  API_RATE_LIMIT_PER_CLIENT: 3_000,
  API_RATE_LIMIT_BULK_PER_USER: 10,
  API_RATE_LIMIT_PER_USER_PER_SECOND: 10,
  API_RATE_LIMIT_BULK_PER_USER_PER_SECOND: 1,
  API_IN_FLIGHT_PER_USER: 2,
} as const;
