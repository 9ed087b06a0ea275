/** Progress lines for long commands: short, prefixed, on stderr so stdout stays clean. */
export function step(message: string): void {
  process.stderr.write(`[taskit] ${message}\n`);
}

/** Prints a heartbeat every `everyMs` while `work` runs, so a cold build never looks hung. */
export async function withHeartbeat<T>(
  label: string,
  work: Promise<T>,
  everyMs = 15_000,
): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => step(`${label}: still working (${Math.round((Date.now() - started) / 1000)} s)`),
    everyMs,
  );
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
