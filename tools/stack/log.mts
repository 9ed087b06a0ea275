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

/**
 * The `onWait` of a cross-process lock (file-lock.mts): says which command holds it, then
 * prints a heartbeat until `stop` is called or another holder is reported.
 */
export function lockWaitReporter(
  name: string,
  activity: string,
): { onWait: (holderPid: number) => void; stop: () => void } {
  let stopHeartbeat = (): void => undefined;
  return {
    onWait: (holderPid) => {
      step(`${name}: another taskit command (pid ${holderPid}) is ${activity} it; waiting`);
      stopHeartbeat();
      stopHeartbeat = heartbeat((s) => `${name}: still waiting for pid ${holderPid} (${s} s)`);
    },
    stop: () => stopHeartbeat(),
  };
}
