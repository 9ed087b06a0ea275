/** Samples of a Prometheus text exposition: `name{labels} value`. */
export function parseMetrics(text: string): { name: string; labels: string; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      return match
        ? { name: match[1], labels: match[2] ?? '', value: Number(match[3]) }
        : undefined;
    })
    .filter((s): s is { name: string; labels: string; value: number } => s !== undefined);
}

export function labelOf(labels: string, name: string): string {
  return new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '';
}

/** The samples of a service's `/metrics`; empty when it cannot be read. */
export async function scrape(
  baseUrl: string | undefined,
): Promise<ReturnType<typeof parseMetrics>> {
  if (!baseUrl) return [];
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? parseMetrics(await response.text()) : [];
  } catch {
    return [];
  }
}
