/** InfluxDB 1.8's /query endpoint (InfluxQL), JSON results. */
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
