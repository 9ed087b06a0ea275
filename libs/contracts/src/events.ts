/**
 * Task events on the wire (docs/api.md, Events on the wire). The gateway records one event per
 * affected task; both consumers (the analytics worker and Telegraf) read the same body.
 */
export const TASK_EVENT_TYPES = [
  'task.created',
  'task.updated',
  'task.completed',
  'task.uncompleted',
  'task.deleted',
] as const;

export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

export const TASK_EVENT_VERSION = 1;

export interface TaskEvent {
  eventId: string;
  type: TaskEventType;
  taskId: string;
  userId: string;
  /** RFC 3339 with nanosecond digits; unique per user, it is the InfluxDB point timestamp. */
  occurredAt: string;
  version: typeof TASK_EVENT_VERSION;
  /** Set only on the doctor's probe events: both consumers tag their point `probe=true`. */
  probe?: true;
}

/** The user id of the doctor's probe events (no real user has it: theirs are ObjectIds). */
export const PROBE_USER_ID = 'taskit-doctor-probe';

/** The Nest RMQ message shape: `{ pattern, data }`, the pattern being the event type. */
export interface TaskEventMessage {
  pattern: TaskEventType;
  data: TaskEvent;
}

export function isTaskEventType(value: unknown): value is TaskEventType {
  return typeof value === 'string' && (TASK_EVENT_TYPES as readonly string[]).includes(value);
}

/** The routing key of an event is its type. */
export function routingKeyFor(type: TaskEventType): string {
  return type;
}
