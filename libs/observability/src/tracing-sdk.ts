/**
 * The OpenTelemetry SDK with Taskit's instrumentations, loaded by tracing.ts only when tracing
 * is on. The instrumentations patch http, mongodb and redis when those are first required.
 */
import { ClientRequest, type IncomingMessage } from 'node:http';
import type {
  Context,
  Span,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
} from '@opentelemetry/api';
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { TRUSTED_CARRIER } from './trace-context.ts';

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
 * W3C trace context and baggage, continued only from carriers Taskit wrote (TRUSTED_CARRIER):
 * an HTTP request's `traceparent` comes from a client, who must neither choose the trace id
 * (joining or polluting other traces) nor decide sampling (flooding the exporter or hiding
 * requests). Every HTTP request starts a new trace, sampled by the configured sampler.
 */
class TrustedCarrierPropagator implements TextMapPropagator {
  private readonly inner = new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.inner.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    return getter === TRUSTED_CARRIER ? this.inner.extract(context, carrier, getter) : context;
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

/** The statement of a Redis command without its values or the ids in its key names. */
export function redactedRedisStatement(command: string, args: (string | Buffer)[]): string {
  const shown = args.map((arg, index) => {
    const text = typeof arg === 'string' ? arg : undefined;
    // The first argument is the key of most commands: its namespace stays, its last part (a
    // session id, a user id, a hash of an email) goes. Values never show.
    if (index === 0 && text !== undefined && /^[\w-]+(:[\w-]+)+$/.test(text)) {
      return `${text.slice(0, text.lastIndexOf(':'))}:?`;
    }
    return '?';
  });
  return [command, ...shown].join(' ');
}

/**
 * Spans of incoming HTTP requests, MongoDB and Redis commands, exported over OTLP as the
 * standard variables say (endpoint, protocol, sampler, batch delay).
 */
export function startSdk(serviceName: string): void {
  if (sdk) return;
  sdk = new NodeSDK({
    serviceName,
    textMapPropagator: new TrustedCarrierPropagator(),
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
      new RedisInstrumentation({
        requireParentSpan: true,
        dbStatementSerializer: redactedRedisStatement,
      }),
    ],
  });
  sdk.start();
}
