import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TASK_EVENT_VERSION, type TaskEvent, type TaskEventType } from '@taskit/contracts';

/**
 * A clock in nanoseconds since the epoch that never returns the same value twice in this
 * process: the event's occurredAt is its InfluxDB timestamp, and two events of one user must
 * never share it (docs/api.md, Events on the wire). Wall-clock milliseconds carry the sub-millisecond
 * digits of a monotonic high-resolution counter, and ties move forward by one nanosecond.
 */
export class UniqueNanosecondClock {
  private last = 0n;

  now(): bigint {
    const wallMs = BigInt(Date.now());
    const subMs = process.hrtime.bigint() % 1_000_000n;
    const candidate = wallMs * 1_000_000n + subMs;
    this.last = candidate > this.last ? candidate : this.last + 1n;
    return this.last;
  }
}

/** RFC 3339 in UTC with all nine fractional digits, e.g. 2026-11-26T06:46:21.123456789Z. */
export function formatNanoseconds(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const whole = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${fraction}Z`;
}

/** The one place where task events are made (the gateway's domain hook for the pipeline). */
@Injectable()
export class TaskEventFactory {
  private readonly clock = new UniqueNanosecondClock();

  create(type: TaskEventType, taskId: string, userId: string): TaskEvent {
    return {
      eventId: randomUUID(),
      type,
      taskId,
      userId,
      occurredAt: formatNanoseconds(this.clock.now()),
      version: TASK_EVENT_VERSION,
    };
  }
}
