/** InfluxDB schema of task events (docs/api.md, The InfluxDB schema), written by the worker and Telegraf. */
export const TASK_EVENTS_MEASUREMENT = 'task_events';

export const TaskEventTags = {
  type: 'type',
  userId: 'user_id',
  source: 'source',
  /** Only on the points of `npm run doctor -- --probe` events (value `true`): queries skip them. */
  probe: 'probe',
} as const;

/** The value of the probe tag; every other point has no probe tag at all. */
export const PROBE_TAG_VALUE = 'true';

export const TaskEventFields = {
  taskId: 'task_id',
  eventId: 'event_id',
  count: 'count',
} as const;

export const EVENT_SOURCES = ['worker', 'telegraf'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];
