import type { INestApplication, LoggerService } from '@nestjs/common';
import { ShutdownState } from './health.ts';
import { flushSpans } from './trace-context.ts';

/**
 * On SIGTERM or SIGINT: fail readiness at once, let in-flight work finish (`app.close()`
 * stops accepting, waits for open requests, then runs every module's shutdown hooks), export
 * the last spans, and exit; if that takes longer than `timeoutMs`, exit anyway so the pod
 * does not hang.
 */
export function installGracefulShutdown(
  app: INestApplication,
  logger: LoggerService,
  timeoutMs: number,
): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: draining`, 'Shutdown');
    app.get(ShutdownState).begin();
    const deadline = setTimeout(() => {
      logger.error(`shutdown took longer than ${timeoutMs} ms; exiting`, undefined, 'Shutdown');
      process.exit(1);
    }, timeoutMs);
    app
      .close()
      .then(async () => {
        logger.log('closed cleanly', 'Shutdown');
        await flushSpans();
        clearTimeout(deadline);
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error(`shutdown failed: ${String(error)}`, undefined, 'Shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
