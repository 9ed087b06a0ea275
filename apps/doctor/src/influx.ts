import { fetchWithin } from './check';
import type { DoctorSettings } from './settings';

/** A Flux string literal. */
export function fluxString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Rows of an annotated-CSV Flux answer, as objects keyed by column. */
export function parseFluxCsv(text: string): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  let header: string[] | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) {
      if (line === '') header = undefined;
      continue;
    }
    const cells = line.split(',');
    if (!header) header = cells;
    else rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
  }
  return rows;
}

/** Runs a Flux query (InfluxDB 2.x, or 1.8 with flux-enabled) and returns its rows. */
export async function fluxQuery(settings: DoctorSettings, query: string, ms = 4_000) {
  const response = await fetchWithin(
    `${settings.influxUrl}/api/v2/query?org=${encodeURIComponent(settings.influxOrg)}`,
    ms,
    {
      method: 'POST',
      headers: {
        authorization: `Token ${settings.influxToken}`,
        accept: 'application/csv',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query, type: 'flux' }),
    },
  );
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      message =
        (JSON.parse(text) as { message?: string; error?: string }).message ??
        (JSON.parse(text) as { error?: string }).error ??
        text;
    } catch {
      // not JSON: keep the text
    }
    throw new InfluxError(response.status, message.replace(/\s+/g, ' ').trim().slice(0, 300));
  }
  return parseFluxCsv(text);
}

export class InfluxError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(`InfluxDB ${status}: ${message}`);
  }

  /** "no database" (1.8) or "bucket ... not found" (2.x). */
  get isMissingBucket(): boolean {
    return /no database|not found|database not found/i.test(this.message);
  }
}
