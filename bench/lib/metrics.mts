/** What a service's `/metrics` answers (Prometheus text format), within 5 s. */
async function scrape(metricsUrl: string): Promise<string> {
  return (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
}

/**
 * The values of counters or gauges from one scrape, in the order asked: each unlabelled (or
 * its first labelled series); NaN where absent.
 */
export async function metricValues(metricsUrl: string, ...names: string[]): Promise<number[]> {
  const text = await scrape(metricsUrl);
  return names.map((name) => {
    const value = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1];
    return value === undefined ? Number.NaN : Number(value);
  });
}

/**
 * Quantiles of a Prometheus histogram read from a service's `/metrics`, as `histogram_quantile`
 * computes them: linear within the bucket that holds the rank. The e2e part reads the relay's
 * and the worker's lag histograms with it, to say in which hop an event waited.
 */
export async function histogramQuantiles(
  metricsUrl: string,
  name: string,
  quantiles: number[],
): Promise<Record<string, number | null>> {
  const text = await scrape(metricsUrl);
  const buckets: { le: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_bucket\\{.*le="([^"]+)".*\\} (\\d+(?:\\.\\d+)?)$`).exec(
      line,
    );
    if (match) buckets.push({ le: Number(match[1]), count: Number(match[2]) });
  }
  buckets.sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  const result: Record<string, number | null> = {};
  for (const q of quantiles) {
    const key = `p${Math.round(q * 100)}_s`;
    if (total === 0) {
      result[key] = null;
      continue;
    }
    const rank = q * total;
    let lower = { le: 0, count: 0 };
    for (const bucket of buckets) {
      if (bucket.count >= rank) {
        // Beyond the last finite bound nothing better than that bound can be said.
        if (!Number.isFinite(bucket.le)) result[key] = lower.le;
        else {
          const share = (rank - lower.count) / Math.max(1, bucket.count - lower.count);
          result[key] = Math.round((lower.le + (bucket.le - lower.le) * share) * 1000) / 1000;
        }
        break;
      }
      lower = bucket;
    }
  }
  return result;
}
