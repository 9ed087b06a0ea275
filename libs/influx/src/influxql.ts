/**
 * InfluxQL over InfluxDB's `/query` endpoint, which every generation serves: 1.8 natively,
 * 2.x through its v1 compatibility API, 3.x and Cloud Serverless as well; Flux only 1.8 (when
 * enabled) and 2.x do (docs/deployment.md, InfluxDB in "From an empty GCP project"). Every
 * value that reaches a query goes through `influxql` below, which quotes it; no query is
 * assembled from raw input.
 */

/** An identifier (measurement, tag or field name), double-quoted. */
export class Identifier {
  constructor(readonly name: string) {}
}

export function identifier(name: string): Identifier {
  return new Identifier(name);
}

/** A duration literal such as `1h` or `5m` (only digits and a unit pass). */
export class Duration {
  constructor(readonly text: string) {
    if (!/^\d+(ns|u|µ|ms|s|m|h|d|w)$/.test(text)) throw new Error(`not a duration: ${text}`);
  }
}

export function duration(text: string): Duration {
  return new Duration(text);
}

function quote(text: string, mark: '"' | "'"): string {
  return `${mark}${text.replace(/\\/g, '\\\\').replaceAll(mark, `\\${mark}`)}${mark}`;
}

export type InfluxQlValue = string | number | Date | Identifier | Duration;

/** One value as InfluxQL reads it: strings as string literals, dates as RFC 3339 times. */
export function literal(value: InfluxQlValue): string {
  if (value instanceof Identifier) return quote(value.name, '"');
  if (value instanceof Duration) return value.text;
  if (value instanceof Date) return quote(value.toISOString(), "'");
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  return quote(value, "'");
}

/** A query from a template: each interpolated value is quoted by `literal`. */
export function influxql(parts: TemplateStringsArray, ...values: InfluxQlValue[]): string {
  return parts.reduce((query, part, i) => query + literal(values[i - 1]) + part);
}

export interface InfluxQlTarget {
  /** Base URL of InfluxDB's HTTP API. */
  url: string;
  /** API token (2.x, 3.x) or `user:password` (1.8 with auth); empty when auth is off. */
  token: string;
  database: string;
  /** Retention policy; the database's default when absent. */
  retentionPolicy?: string;
}

/** A bucket setting (`taskit/autogen` on 1.8, `taskit` on 2.x) as InfluxQL's database/policy. */
export function targetOfBucket(url: string, token: string, bucket: string): InfluxQlTarget {
  const [database, retentionPolicy] = bucket.split('/', 2);
  return { url, token, database, retentionPolicy };
}

export interface InfluxQlSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  /** Times as epoch milliseconds. */
  values: unknown[][];
}

export class InfluxQlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`InfluxDB ${status}: ${message}`);
  }

  /** The database (1.8, 3.x) or its bucket mapping (2.x) does not exist. */
  get isMissingDatabase(): boolean {
    return /database not found|no database|not found/i.test(this.message);
  }
}

/** Runs one InfluxQL statement and returns its series; an error of InfluxDB throws. */
export async function queryInfluxQl(
  target: InfluxQlTarget,
  query: string,
  signal: AbortSignal = AbortSignal.timeout(10_000),
): Promise<InfluxQlSeries[]> {
  const params = new URLSearchParams({ db: target.database, q: query, epoch: 'ms' });
  if (target.retentionPolicy) params.set('rp', target.retentionPolicy);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
  };
  if (target.token) headers.authorization = `Token ${target.token}`;
  const response = await fetch(new URL('/query', target.url), {
    method: 'POST',
    headers,
    body: params,
    signal,
  });
  const text = await response.text();
  let body: { results?: { series?: InfluxQlSeries[]; error?: string }[]; error?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new InfluxQlError(response.status, text.replace(/\s+/g, ' ').trim().slice(0, 300));
  }
  const error = body.error ?? body.results?.find((result) => result.error)?.error;
  if (!response.ok || error) throw new InfluxQlError(response.status, error ?? text.slice(0, 300));
  return body.results?.[0]?.series ?? [];
}

/** The series' rows as objects keyed by column, each with its series' tags. */
export function rowsOf(series: InfluxQlSeries[]): Record<string, unknown>[] {
  return series.flatMap((s) =>
    s.values.map((row) => ({
      ...s.tags,
      ...Object.fromEntries(s.columns.map((column, i) => [column, row[i]])),
    })),
  );
}
