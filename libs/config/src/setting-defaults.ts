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
