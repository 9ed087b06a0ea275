/**
 * The OpenTelemetry SDK of a Taskit process. Imported by each app's `tracing.ts`, which its
 * main.ts imports first: the instrumentations patch http, mongodb and redis when those
 * are first required, so this must run before Nest and the drivers load. Only the settings
 * module is required here, by file, for the same reason.
 */
import { ClientRequest, type IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { TracingEnvironment } from '@taskit/config/tracing-environment';
import { loadEnvironmentOrExit } from '@taskit/config/validate-environment';

const UNTRACED_PATHS = ['/health/live', '/health/ready', '/metrics'];

let sdk: NodeSDK | undefined;

/**
 * Names a server span `METHOD /route/:param` once the response is sent, when Express has
 * matched the request (`req.route`). The Express instrumentation does this through the router's
 * layers, but records nothing with Nest 12 on Express 5, so the route is read here instead.
 */
function nameByRoute(span: Span, request: ClientRequest | IncomingMessage): void {
  if (request instanceof ClientRequest) return;
  const route = (request as IncomingMessage & { route?: { path?: unknown } }).route?.path;
  if (typeof route !== 'string') return;
  span.setAttribute('http.route', route);
  span.updateName(`${request.method} ${route}`);
}

/**
 * Starts tracing when the OTEL_* settings ask for it (TracingEnvironment): spans of incoming
 * HTTP requests, MongoDB and Redis commands, exported over OTLP as the
 * standard variables say (protocol, sampler, batch delay). With tracing off nothing is started:
 * the API stays a no-op, so the manual spans and the log fields cost a function call.
 */
export function startTracing(serviceName: string): void {
  const env = loadEnvironmentOrExit(TracingEnvironment);
  if (!env.tracingEnabled || sdk) return;
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? serviceName,
    // Traces only: metrics are Prometheus (/metrics) and logs are pino on stdout.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.includes(req.url ?? ''),
        // Background calls outside any traced work (readiness probes) make no root spans.
        requireParentforOutgoingSpans: true,
        applyCustomAttributesOnSpan: nameByRoute,
      }),
      // The relay's sweep queries every second: only commands inside traced work get a span.
      new MongoDBInstrumentation({ requireParentSpan: true }),
      new RedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
}
