/** Reading traces back from Jaeger's query API (the one `npm test` runs, docs/tracing.md). */
import { randomUUID } from 'node:crypto';
import { eventually } from './eventually';
import type { RunningProcess } from './processes';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  processID: string;
  startTime: number;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suites through "npm test"`);
  return value;
}

export function jaegerUrl(): string {
  return required('TASKIT_TEST_JAEGER_URL');
}

/** Settings that make a service export its spans to the test run's Jaeger at once. */
export function tracingSettings(): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: required('TASKIT_TEST_OTLP_URL'),
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  };
}

export async function fetchTrace(traceId: string): Promise<JaegerTrace | undefined> {
  const response = await fetch(`${jaegerUrl()}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`Jaeger: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] };
  return body.data[0];
}

/** The ids of the traces Jaeger finds for `service` since `since` (ms since the epoch). */
export async function searchTraceIds(service: string, since: number): Promise<string[]> {
  const query = new URLSearchParams({
    service,
    start: String(since * 1000),
    end: String(Date.now() * 1000),
    limit: '1000',
  });
  const response = await fetch(`${jaegerUrl()}/api/traces?${query.toString()}`);
  if (!response.ok) throw new Error(`Jaeger: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { data: JaegerTrace[] };
  return body.data.map((t) => t.traceID);
}

export function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
  return trace.processes[span.processID]?.serviceName;
}

export function tag(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

export function parentOf(trace: JaegerTrace, span: JaegerSpan): JaegerSpan | undefined {
  const ref = span.references.find((r) => r.refType === 'CHILD_OF');
  return ref && trace.spans.find((s) => s.spanID === ref.spanID);
}

/** True when `ancestor` is on `span`'s chain of parents. */
export function descendsFrom(trace: JaegerTrace, span: JaegerSpan, ancestor: JaegerSpan): boolean {
  for (let p = parentOf(trace, span); p; p = parentOf(trace, p)) {
    if (p.spanID === ancestor.spanID) return true;
  }
  return false;
}

/** The one span of `service` named `operation` (throws when there is none or several). */
export function onlySpan(
  trace: JaegerTrace,
  service: string,
  operation: string | RegExp,
): JaegerSpan {
  const found = trace.spans.filter(
    (s) =>
      serviceOf(trace, s) === service &&
      (typeof operation === 'string'
        ? s.operationName === operation
        : operation.test(s.operationName)),
  );
  if (found.length !== 1) {
    const names = trace.spans.map((s) => `${serviceOf(trace, s)}:${s.operationName}`).join(', ');
    throw new Error(
      `expected one ${service} span ${String(operation)}, found ${found.length} in: ${names}`,
    );
  }
  return found[0];
}

/** The `trace_id` of the gateway's log line for the request with this X-Request-Id. */
export function traceIdLogged(output: string, requestId: string): string | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as {
      requestId?: string;
      req?: { id?: string };
      trace_id?: string;
    };
    if ((entry.req?.id === requestId || entry.requestId === requestId) && entry.trace_id) {
      return entry.trace_id;
    }
  }
  return undefined;
}

/**
 * Sends a request with its own X-Request-Id through `send` and returns the trace id that the
 * gateway's log line for it names.
 */
export async function tracedRequest(
  gateway: RunningProcess,
  send: (headers: Record<string, string>) => Promise<unknown>,
): Promise<string> {
  const requestId = `tracing-${randomUUID()}`;
  await send({ 'x-request-id': requestId });
  let traceId: string | undefined;
  await eventually(() => {
    traceId = traceIdLogged(gateway.output, requestId);
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });
  return traceId!;
}

/** Polls Jaeger until the trace exists and passes `complete`; the error lists its spans. */
export async function traceWhen(
  traceId: string,
  complete: (trace: JaegerTrace) => void,
  timeoutMs = 10_000,
): Promise<JaegerTrace> {
  let trace: JaegerTrace | undefined;
  await eventually(
    async () => {
      trace = await fetchTrace(traceId);
      expect(trace).toBeDefined();
      complete(trace!);
    },
    timeoutMs,
    250,
  ).catch((error: Error) => {
    const spans = trace?.spans.map((s) => [serviceOf(trace!, s), s.operationName, s.references]);
    throw new Error(`${error.message}\n--- trace ${traceId} ---\n${JSON.stringify(spans)}`);
  });
  return trace!;
}
