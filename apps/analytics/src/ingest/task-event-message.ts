import { Point } from '@influxdata/influxdb-client';
import {
  isTaskEventType,
  PROBE_TAG_VALUE,
  TASK_EVENT_VERSION,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type TaskEvent,
} from '@taskit/contracts';

/** Why a message cannot be processed: it goes to the dead-letter queue at once. */
export type PoisonReason = 'invalid_json' | 'wrong_shape' | 'unknown_pattern';

export type ParsedMessage =
  | { ok: true; event: TaskEvent; timestampNs: string }
  | { ok: false; reason: PoisonReason; detail: string };

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;
const IDENTIFIER = /^[A-Za-z0-9_.:-]{1,128}$/;

/** RFC 3339 with up to nine fractional digits → nanoseconds since the epoch, as a decimal string. */
export function rfc3339ToNanoseconds(value: string): string | undefined {
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const [, whole, fraction = '', zone] = match;
  const ms = Date.parse(`${whole}${zone}`);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  // Timestamps above 2^53 ns lose digits as numbers: keep them exact with BigInt.
  const ns = BigInt(ms / 1000) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return ns.toString();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a message body against docs/api.md, Events on the wire. */
export function parseTaskEventMessage(content: Buffer): ParsedMessage {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_json', detail: 'body is not JSON' };
  }
  if (!isObject(body) || typeof body.pattern !== 'string' || !isObject(body.data)) {
    return { ok: false, reason: 'wrong_shape', detail: 'body is not {pattern, data}' };
  }
  if (!isTaskEventType(body.pattern)) {
    return {
      ok: false,
      reason: 'unknown_pattern',
      detail: `pattern ${JSON.stringify(body.pattern).slice(0, 80)}`,
    };
  }
  const data = body.data;
  const problems: string[] = [];
  if (data.type !== body.pattern) problems.push('data.type differs from pattern');
  for (const key of ['eventId', 'taskId', 'userId'] as const) {
    if (typeof data[key] !== 'string' || !IDENTIFIER.test(data[key])) problems.push(`data.${key}`);
  }
  if (data.version !== TASK_EVENT_VERSION) problems.push('data.version');
  const timestampNs =
    typeof data.occurredAt === 'string' ? rfc3339ToNanoseconds(data.occurredAt) : undefined;
  if (timestampNs === undefined) problems.push('data.occurredAt');
  if (problems.length > 0 || timestampNs === undefined) {
    return { ok: false, reason: 'wrong_shape', detail: `invalid ${problems.join(', ')}` };
  }
  return { ok: true, event: data as unknown as TaskEvent, timestampNs };
}

/** The worker's point of an event (docs/api.md, The InfluxDB schema): a redelivery overwrites it. */
export function toPoint(event: TaskEvent, timestampNs: string): Point {
  const point = new Point(TASK_EVENTS_MEASUREMENT);
  // The same tag Telegraf's config derives from data.probe (deploy/telegraf/telegraf.conf).
  if (event.probe === true) point.tag(TaskEventTags.probe, PROBE_TAG_VALUE);
  return point
    .tag(TaskEventTags.type, event.type)
    .tag(TaskEventTags.userId, event.userId)
    .tag(TaskEventTags.source, 'worker')
    .stringField(TaskEventFields.taskId, event.taskId)
    .stringField(TaskEventFields.eventId, event.eventId)
    .intField(TaskEventFields.count, 1)
    .timestamp(timestampNs);
}
