/** InfluxDB schema of task events (CONTRACT section 7), written by the worker and Telegraf. */
export const TASK_EVENTS_MEASUREMENT = 'task_events';

export const TaskEventTags = {
  type: 'type',
  userId: 'user_id',
  source: 'source',
} as const;

export const TaskEventFields = {
  taskId: 'task_id',
  eventId: 'event_id',
  count: 'count',
} as const;

export const EVENT_SOURCES = ['worker', 'telegraf'] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];
