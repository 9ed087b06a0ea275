import type { TaskEvent } from '@taskit/contracts';
import { activeTraceparent } from '@taskit/observability';
import type { OutboxEntry } from '../outbox/outbox.port';

/**
 * The transactional outbox lives inside each task document (FerretDB has no multi-document
 * transactions): a change to a task and the events it causes are one single-document write.
 * The relay (outbox/) publishes the entries, and this module's TaskOutboxStore removes each one
 * after RabbitMQ confirmed it. A deleted task stays as a tombstone (`deletedAt` set) until its
 * `task.deleted` event is published; then the store removes the document.
 */
export interface OutboxFields {
  /** Events not yet confirmed by the broker, oldest first. */
  outbox: OutboxEntry[];
  /**
   * True while `outbox` holds events: the relay's sweep is an equality on it, which FerretDB
   * pushes down to PostgreSQL (a range or `$exists` filter would be evaluated in Go).
   */
  outboxPending: boolean;
  /** When the oldest pending event was recorded (relay order, backlog age); absent when empty. */
  outboxSince?: Date;
}

export { TASKS_COLLECTION } from '@taskit/contracts';

/**
 * Unpublished events one task document may hold (docs/limits.md). Only a long broker outage
 * fills it, with one task changed over and over; a write beyond it is refused with a 429 and
 * nothing is lost. It also bounds what the relay's sweep reads per document.
 */
export const OUTBOX_ENTRIES_PER_TASK_MAX = 100;

/** Matches a task whose outbox still has room for `count` more events. */
export function outboxHasRoom(count = 1) {
  return { [`outbox.${OUTBOX_ENTRIES_PER_TASK_MAX - count}`]: { $exists: false } };
}

/** The event with the trace context of the request recording it (relay, docs/tracing.md). */
export function withTraceContext(event: TaskEvent): OutboxEntry {
  const traceparent = activeTraceparent();
  return traceparent ? { ...event, traceparent } : event;
}

/** The outbox fields of a new document that records `events` with it. */
export function newOutbox(events: OutboxEntry[], now: Date): Required<OutboxFields> {
  return { outbox: events, outboxPending: true, outboxSince: now };
}

/** A task update (`$set` of the change) extended to record `events` in the same atomic write. */
export function withEvents(
  update: { $set: Record<string, unknown> },
  events: OutboxEntry[],
  now: Date,
) {
  return {
    $set: { ...update.$set, outboxPending: true },
    $push: { outbox: { $each: events } },
    // $min sets the field when it is absent and otherwise keeps the older time.
    $min: { outboxSince: now },
  };
}
