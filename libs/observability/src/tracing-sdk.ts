/**
 * The OpenTelemetry SDK with Taskit's instrumentations, loaded by tracing.ts only when tracing
 * is on. The instrumentations patch http, mongodb and redis when those are first required.
 */
import { ClientRequest, type IncomingMessage } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { NodeSDK } from '@opentelemetry/sdk-node';

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
 * Spans of incoming HTTP requests, MongoDB and Redis commands, exported over OTLP as the
 * standard variables say (endpoint, protocol, sampler, batch delay).
 */
export function startSdk(serviceName: string): void {
  if (sdk) return;
  sdk = new NodeSDK({
    serviceName,
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
