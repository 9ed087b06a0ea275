import { randomBytes, randomUUID } from 'node:crypto';
import {
  EVENT_SOURCES,
  PROBE_TAG_VALUE,
  PROBE_USER_ID,
  routingKeyFor,
  TASK_EVENT_VERSION,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  type EventSource,
  type TaskEvent,
  type TaskEventMessage,
} from '@taskit/contracts';
import { connect } from 'amqplib';
import { errorMessage, fail, pass, type Check } from './check';
import { identifier, influxql } from '@taskit/influx';
import { influxRows } from './influx';
import type { DoctorSettings } from './settings';

const HINT: Record<EventSource, string> = {
  worker:
    'the analytics worker did not write it: see the analytics.task-events checks above and .run/logs/analytics.log',
  telegraf:
    'Telegraf did not write it: see the telegraf.task-events checks above and .run/logs/telegraf.log',
};

/** A contract event marked as the doctor's probe (nanosecond digits keep it a unique point). */
export function probeEvent(now = new Date()): TaskEvent {
  const nanos = String(randomBytes(3).readUIntBE(0, 3) % 1_000_000).padStart(6, '0');
  return {
    eventId: randomUUID(),
    type: 'task.created',
    taskId: `probe-${randomBytes(6).toString('hex')}`,
    userId: PROBE_USER_ID,
    occurredAt: now.toISOString().replace('Z', `${nanos}Z`),
    version: TASK_EVENT_VERSION,
    probe: true,
  };
}

async function publish(settings: DoctorSettings, event: TaskEvent): Promise<void> {
  const connection = await connect(settings.rabbitmqUrl, { timeout: 3_000 });
  try {
    const channel = await connection.createConfirmChannel();
    let returned = false;
    channel.on('return', () => (returned = true));
    const message: TaskEventMessage = { pattern: event.type, data: event };
    channel.publish(
      TASK_EVENTS_EXCHANGE,
      routingKeyFor(event.type),
      Buffer.from(JSON.stringify(message)),
      {
        persistent: true,
        mandatory: true,
        contentType: 'application/json',
        messageId: event.eventId,
      },
    );
    await channel.waitForConfirms();
    if (returned)
      throw new Error(`unroutable: no queue is bound to ${TASK_EVENTS_EXCHANGE} for ${event.type}`);
    await channel.close();
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function sourcesHolding(settings: DoctorSettings, event: TaskEvent): Promise<EventSource[]> {
  const tag = (name: string) => identifier(name);
  const rows = await influxRows(
    settings,
    influxql`SELECT count(${identifier(TaskEventFields.eventId)}) FROM ${identifier(TASK_EVENTS_MEASUREMENT)} WHERE ${tag(TaskEventTags.probe)} = ${PROBE_TAG_VALUE} AND ${tag(TaskEventTags.userId)} = ${PROBE_USER_ID} AND ${identifier(TaskEventFields.eventId)} = ${event.eventId} AND time > now() - 10m GROUP BY ${tag(TaskEventTags.source)}`,
    3_000,
  );
  return rows
    .map((r) => r[TaskEventTags.source] as EventSource)
    .filter((s) => EVENT_SOURCES.includes(s));
}

/**
 * `--probe`: publishes one marked event through the real exchange and waits until both
 * sources wrote its point (tagged probe=true, which analytics and dashboards leave out).
 */
export async function runProbe(settings: DoctorSettings, timeoutMs: number): Promise<Check[]> {
  const event = probeEvent();
  const started = Date.now();
  try {
    await publish(settings, event);
  } catch (error) {
    return [
      fail(
        'probe',
        'publish',
        errorMessage(error),
        'The probe could not be published: see the RabbitMQ checks above.',
      ),
    ];
  }
  const arrived = new Map<EventSource, number>();
  while (arrived.size < EVENT_SOURCES.length && Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const holding = await sourcesHolding(settings, event).catch(() => []);
    for (const source of holding)
      if (!arrived.has(source)) arrived.set(source, Date.now() - started);
  }
  const checks = [
    pass('probe', 'publish', `event ${event.eventId} confirmed by ${TASK_EVENTS_EXCHANGE}`),
  ];
  for (const source of EVENT_SOURCES) {
    const ms = arrived.get(source);
    checks.push(
      ms === undefined
        ? fail(
            'probe',
            `${source} path`,
            `no point within ${timeoutMs / 1000} s`,
            `The ${source} path is broken: ${HINT[source]}.`,
          )
        : pass('probe', `${source} path`, `point written after ${(ms / 1000).toFixed(2)} s`),
    );
  }
  return checks;
}
