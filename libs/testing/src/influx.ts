/** InfluxDB 1.8: its /query endpoint (InfluxQL, JSON results) and its configuration file. */
export interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

interface InfluxResponse {
  results: { series?: InfluxSeries[]; error?: string }[];
  error?: string;
}

/** The first statement's series; an error of InfluxDB (HTTP or in the body) throws. */
export async function influxQuery(
  influxUrl: string,
  q: string,
  db?: string,
  timeoutMs = 30_000,
): Promise<InfluxSeries[]> {
  const params = new URLSearchParams({ q, epoch: 'ns' });
  if (db !== undefined) params.set('db', db);
  const response = await fetch(`${influxUrl}/query`, {
    method: 'POST',
    body: params,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!response.ok) throw new Error(`InfluxDB ${q}: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as InfluxResponse;
  const error = body.error ?? body.results.find((r) => r.error)?.error;
  if (error) throw new Error(`InfluxDB ${q}: ${error}`);
  return body.results[0]?.series ?? [];
}

/** The single number of a `SELECT count(...)`-like query (0 when there is no series). */
export async function influxScalar(influxUrl: string, db: string, q: string): Promise<number> {
  const series = await influxQuery(influxUrl, q, db);
  const value = series[0]?.values[0]?.[1];
  return typeof value === 'number' ? value : 0;
}

/**
 * influxd's configuration: data under `dir`, HTTP API (Flux on, auth off) on `httpPort`, the
 * RPC/backup listener on `rpcPort` (0: any free one). The local stack and the fault tests'
 * private servers run the same.
 */
export function influxConfig(dir: string, httpPort: number, rpcPort = 0): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${dir}/meta"

[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  # The write cache is snapshotted into TSM files at 25 MB or after 10 idle minutes by
  # default, so a steady writer grows the process by that much (its Go heap by up to twice
  # that) before it falls back; at 1 MB the saw-tooth stays small (docs/local-stack.md).
  cache-snapshot-memory-size = "1m"
  cache-snapshot-write-cold-duration = "1m"

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  flux-enabled = true
  log-enabled = false

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
`;
}
