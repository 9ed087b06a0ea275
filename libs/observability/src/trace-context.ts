import {
  context,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type TextMapGetter,
} from '@opentelemetry/api';

/**
 * W3C trace context helpers over the OpenTelemetry API only. Without a started SDK (tracing
 * off) the API's propagator and tracer are no-ops: no header is written, no span recorded.
 */
export const TRACEPARENT_HEADER = 'traceparent';

/** The `traceparent` of the active span, to store or send; undefined when not tracing. */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[TRACEPARENT_HEADER];
}

/**
 * The getter of the carriers Taskit writes itself (the outbox, RabbitMQ messages between its
 * services). The SDK's propagator continues a trace only from these (tracing-sdk.ts): a
 * client's traceparent on an HTTP request starts nothing.
 */
export const TRUSTED_CARRIER: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The context a stored or received `traceparent` (and `tracestate`) continue. */
export function contextFromHeaders(headers: Record<string, unknown> | undefined): Context {
  if (!headers) return ROOT_CONTEXT;
  const carrier: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value === 'string') carrier[key.toLowerCase()] = value;
    else if (Buffer.isBuffer(value)) carrier[key.toLowerCase()] = value.toString();
  }
  return propagation.extract(ROOT_CONTEXT, carrier, TRUSTED_CARRIER);
}

export function contextFromTraceparent(traceparent: string | undefined): Context {
  return traceparent ? contextFromHeaders({ [TRACEPARENT_HEADER]: traceparent }) : ROOT_CONTEXT;
}

/** The headers that carry `ctx` (AMQP message headers); empty when not tracing. */
export function headersFor(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

const tracer = () => trace.getTracer('taskit');

/**
 * Runs `work` in a new span, child of `parent` (the active context by default), and ends it
 * when the work settles; a thrown error marks it failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  return tracer().startActiveSpan(name, options, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Starts a span that the caller ends (one that outlives the current call). */
export function startSpan(name: string, options: SpanOptions, parent: Context): Span {
  return tracer().startSpan(name, options, parent);
}

/** Exports the finished spans still buffered (before the process exits). */
export async function flushSpans(): Promise<void> {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  const flushable = provider as { forceFlush?: () => Promise<void> };
  await flushable.forceFlush?.().catch(() => undefined);
}

/** `trace_id` and `span_id` of the active span, for log lines; empty outside a span. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
