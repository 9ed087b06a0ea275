/** Progress lines for long commands: short, prefixed, on stderr so stdout stays clean. */
export function step(message: string): void {
  process.stderr.write(`[taskit] ${message}\n`);
}

/**
 * Prints `line(elapsed seconds)` every `everyMs` until the returned function is called, so a
 * long wait never looks hung.
 */
export function heartbeat(line: (elapsedS: number) => string, everyMs = 15_000): () => void {
  const started = Date.now();
  const timer = setInterval(() => step(line(Math.round((Date.now() - started) / 1000))), everyMs);
  return () => clearInterval(timer);
}

/** Prints a heartbeat every `everyMs` while `work` runs, so a cold build never looks hung. */
export async function withHeartbeat<T>(
  label: string,
  work: Promise<T>,
  everyMs = 15_000,
): Promise<T> {
  const stop = heartbeat((elapsedS) => `${label}: still working (${elapsedS} s)`, everyMs);
  try {
    return await work;
  } finally {
    stop();
  }
}

export function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
