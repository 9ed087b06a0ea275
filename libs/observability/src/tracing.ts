/**
 * Tracing of a Taskit process, started by each app's `tracing.ts`, which its main.ts imports
 * first: the instrumentations patch http, mongodb and redis when those are first required, so
 * this must run before Nest and the drivers load. Only the settings are required here, by
 * file, for the same reason.
 */
import { TracingEnvironment } from '@taskit/config/tracing-environment';
import { loadEnvironmentOrExit } from '@taskit/config/validate-environment';
import type * as TracingSdk from './tracing-sdk.ts';

/**
 * Starts the SDK when the OTEL_* settings ask for it (TracingEnvironment). Off, it is not even
 * loaded (that takes a noticeable part of a second): the OpenTelemetry API stays a no-op, so
 * the manual spans and the log fields cost a function call.
 */
export function startTracing(serviceName: string): void {
  const env = loadEnvironmentOrExit(TracingEnvironment);
  if (!env.tracingEnabled) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./tracing-sdk') as typeof TracingSdk;
  startSdk(env.OTEL_SERVICE_NAME ?? serviceName);
}
