import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  ANALYTICS_RPC_QUEUE,
  DEAD_LETTER_EXCHANGE,
  TASK_EVENTS_BINDING,
  TASK_EVENTS_EXCHANGE,
  TELEGRAF_EVENTS_DLQ,
  TELEGRAF_EVENTS_QUEUE,
} from '../../contracts/src/index.ts';
import type { Channel } from 'amqplib';

/**
 * The one owner of Taskit's RabbitMQ topology (docs/api.md, Events on the wire and The summary RPC). Both services
 * declare it at start (and again after every reconnect) with `declareTopology`, and
 * deploy/rabbitmq/definitions.json is generated from the same data (`toDefinitions`), so
 * every declaration carries exactly the same arguments: RabbitMQ answers 406
 * PRECONDITION_FAILED to a re-declaration with other arguments.
 */

/** A message is dead-lettered after this many deliveries (crash loops, not write outages). */
export const EVENTS_DELIVERY_LIMIT = 20;
/** Bound of each event queue: beyond it the broker nacks publishes and the outbox waits. */
export const EVENTS_MAX_LENGTH = 1_000_000;
/**
 * Bounds of each dead-letter queue, in messages and bytes (docs/limits.md): beyond either the
 * oldest dead letters are dropped, so a flood of poison can never stop the event queues.
 */
export const DEAD_LETTER_MAX_LENGTH = 100_000;
export const DEAD_LETTER_MAX_BYTES = 256 * 1024 * 1024;

export type ArgumentValue = string | number | boolean;

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
  durable: boolean;
}

export interface QueueSpec {
  name: string;
  durable: boolean;
  arguments: Record<string, ArgumentValue>;
}

export interface BindingSpec {
  exchange: string;
  queue: string;
  routingKey: string;
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

/** A quorum queue of task events, poison-bounded and dead-lettered at least once. */
function eventsQueue(name: string): QueueSpec {
  return {
    name,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': EVENTS_DELIVERY_LIMIT,
      'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
      // Each queue's dead letters go to its own DLQ (the DLX is a direct exchange).
      'x-dead-letter-routing-key': name,
      // at-least-once dead-lettering needs reject-publish (with drop-head it silently
      // falls back to at-most-once); reject-publish also bounds the queue without dropping.
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-max-length': EVENTS_MAX_LENGTH,
    },
  };
}

/**
 * A bounded DLQ. drop-head rather than reject-publish: with at-least-once dead-lettering a
 * refused dead letter stays in its source queue and counts against that queue's bound, so a
 * full DLQ would end in every user's events being refused. What a DLQ keeps is evidence for
 * an operator (alerted long before it fills), the newest first.
 */
function deadLetterQueue(name: string): QueueSpec {
  return {
    name,
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-overflow': 'drop-head',
      'x-max-length': DEAD_LETTER_MAX_LENGTH,
      'x-max-length-bytes': DEAD_LETTER_MAX_BYTES,
    },
  };
}

/** The RPC queue, as both the analytics server and the topology declare it. */
export const ANALYTICS_RPC_QUEUE_OPTIONS = { durable: true } as const;

export const TASKIT_TOPOLOGY: Topology = {
  exchanges: [
    { name: TASK_EVENTS_EXCHANGE, type: 'topic', durable: true },
    { name: DEAD_LETTER_EXCHANGE, type: 'direct', durable: true },
  ],
  queues: [
    eventsQueue(ANALYTICS_EVENTS_QUEUE),
    eventsQueue(TELEGRAF_EVENTS_QUEUE),
    deadLetterQueue(ANALYTICS_EVENTS_DLQ),
    deadLetterQueue(TELEGRAF_EVENTS_DLQ),
    { name: ANALYTICS_RPC_QUEUE, ...ANALYTICS_RPC_QUEUE_OPTIONS, arguments: {} },
  ],
  bindings: [
    {
      exchange: TASK_EVENTS_EXCHANGE,
      queue: ANALYTICS_EVENTS_QUEUE,
      routingKey: TASK_EVENTS_BINDING,
    },
    {
      exchange: TASK_EVENTS_EXCHANGE,
      queue: TELEGRAF_EVENTS_QUEUE,
      routingKey: TASK_EVENTS_BINDING,
    },
    {
      exchange: DEAD_LETTER_EXCHANGE,
      queue: ANALYTICS_EVENTS_DLQ,
      routingKey: ANALYTICS_EVENTS_QUEUE,
    },
    {
      exchange: DEAD_LETTER_EXCHANGE,
      queue: TELEGRAF_EVENTS_DLQ,
      routingKey: TELEGRAF_EVENTS_QUEUE,
    },
  ],
};

/** Declares the whole topology on `channel`; idempotent, safe to repeat after reconnects. */
export async function declareTopology(
  channel: Pick<Channel, 'assertExchange' | 'assertQueue' | 'bindQueue'>,
  topology: Topology = TASKIT_TOPOLOGY,
): Promise<void> {
  for (const exchange of topology.exchanges) {
    await channel.assertExchange(exchange.name, exchange.type, { durable: exchange.durable });
  }
  for (const queue of topology.queues) {
    await channel.assertQueue(queue.name, { durable: queue.durable, arguments: queue.arguments });
  }
  for (const binding of topology.bindings) {
    await channel.bindQueue(binding.queue, binding.exchange, binding.routingKey);
  }
}

/** RabbitMQ definitions (topology only: no users, permissions or vhosts) for vhost "/". */
export function toDefinitions(topology: Topology = TASKIT_TOPOLOGY, vhost = '/') {
  return {
    exchanges: topology.exchanges.map((e) => ({
      name: e.name,
      vhost,
      type: e.type,
      durable: e.durable,
      auto_delete: false,
      internal: false,
      arguments: {},
    })),
    queues: topology.queues.map((q) => ({
      name: q.name,
      vhost,
      durable: q.durable,
      auto_delete: false,
      arguments: q.arguments,
    })),
    bindings: topology.bindings.map((b) => ({
      source: b.exchange,
      vhost,
      destination: b.queue,
      destination_type: 'queue',
      routing_key: b.routingKey,
      arguments: {},
    })),
  };
}

/** The definitions file's text, exactly as committed in deploy/rabbitmq/definitions.json. */
export function definitionsFileText(topology: Topology = TASKIT_TOPOLOGY): string {
  return `${JSON.stringify(toDefinitions(topology), null, 2)}\n`;
}
