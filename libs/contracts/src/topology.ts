/**
 * RabbitMQ names shared by the gateway, the analytics service, Telegraf's config and the
 * exported definitions file (docs/api.md, Events on the wire and The summary RPC).
 */
export const TASK_EVENTS_EXCHANGE = 'taskit.events';
/** Binds every task event type. */
export const TASK_EVENTS_BINDING = 'task.#';

export const ANALYTICS_EVENTS_QUEUE = 'analytics.task-events';
export const TELEGRAF_EVENTS_QUEUE = 'telegraf.task-events';
export const ANALYTICS_EVENTS_DLQ = 'analytics.task-events.dlq';
export const TELEGRAF_EVENTS_DLQ = 'telegraf.task-events.dlq';
export const DEAD_LETTER_EXCHANGE = 'taskit.events.dlx';

export const ANALYTICS_RPC_QUEUE = 'analytics.rpc';
