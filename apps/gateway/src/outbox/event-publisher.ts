import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  routingKeyFor,
  TASK_EVENTS_EXCHANGE,
  type TaskEvent,
  type TaskEventMessage,
} from '@taskit/contracts';
import { AMQP_CONNECTION, declareTopology } from '@taskit/messaging';
import { contextFromTraceparent, headersFor, inSpan } from '@taskit/observability';
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { PublishFailureReason } from './outbox-metrics';
import type { OutboxEntry } from './outbox.port';

/** How long one publish may wait for the broker's confirm before it counts as failed. */
export const PUBLISH_TIMEOUT_MS = 5_000;

export type PublishOutcome = 'confirmed' | PublishFailureReason;

/** The body on the wire: the Nest RMQ shape `{pattern, data}` (docs/api.md, Events on the wire). */
export function encodeEvent(event: TaskEvent): Buffer {
  const message: TaskEventMessage = { pattern: event.type, data: event };
  return Buffer.from(JSON.stringify(message));
}

/**
 * Publishes task events on a confirm channel: persistent, `mandatory`, message_id = eventId.
 * An event counts as published only when the broker acked it and did not return it first
 * (RabbitMQ acks unroutable messages too; it sends basic.return before that ack).
 */
@Injectable()
export class EventPublisher implements OnModuleInit {
  private readonly logger = new Logger(EventPublisher.name);
  private channel?: ChannelWrapper;
  private readonly returned = new Set<string>();
  private topologyDeclared = false;

  constructor(@Inject(AMQP_CONNECTION) private readonly connection: AmqpConnectionManager) {}

  onModuleInit(): void {
    this.channel = this.connection.createChannel({
      name: 'outbox-relay',
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        this.topologyDeclared = false;
        channel.on('return', (message: ConsumeMessage) => {
          const id: unknown = message.properties.messageId;
          if (typeof id === 'string') this.returned.add(id);
        });
        await declareTopology(channel);
        this.topologyDeclared = true;
      },
    });
    this.channel.on('error', (error: Error) =>
      this.logger.error(`publisher channel: ${error.message}`),
    );
  }

  /** Connected, with the topology declared on the current channel. */
  get isReady(): boolean {
    return this.connection.isConnected() && this.topologyDeclared;
  }

  /**
   * One span per attempt, a child of the request that recorded the event (its stored
   * traceparent), also when the sweep publishes it long after, from another pod: the change,
   * this publish and the consumers' spans are one trace. The message carries the span's
   * context in its `traceparent` header (docs/tracing.md).
   */
  publish(entry: OutboxEntry): Promise<PublishOutcome> {
    const { traceparent, ...event } = entry;
    const attributes = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'send',
      'messaging.destination.name': TASK_EVENTS_EXCHANGE,
      'messaging.rabbitmq.destination.routing_key': routingKeyFor(event.type),
      'messaging.message.id': event.eventId,
    };
    return inSpan(
      `publish ${TASK_EVENTS_EXCHANGE}`,
      { kind: SpanKind.PRODUCER, attributes },
      async (span) => {
        const outcome = await this.send(event, headersFor(context.active()));
        span.setAttribute('taskit.publish.outcome', outcome);
        if (outcome !== 'confirmed')
          span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        return outcome;
      },
      contextFromTraceparent(traceparent),
    );
  }

  private async send(event: TaskEvent, headers: Record<string, string>): Promise<PublishOutcome> {
    if (!this.channel || !this.isReady) return 'disconnected';
    try {
      await this.channel.publish(
        TASK_EVENTS_EXCHANGE,
        routingKeyFor(event.type),
        encodeEvent(event),
        {
          persistent: true,
          mandatory: true,
          contentType: 'application/json',
          messageId: event.eventId,
          timeout: PUBLISH_TIMEOUT_MS,
          ...(Object.keys(headers).length > 0 ? { headers } : {}),
        },
      );
    } catch (error) {
      this.returned.delete(event.eventId);
      return error instanceof Error && error.message === 'timeout' ? 'timeout' : 'nacked';
    }
    return this.returned.delete(event.eventId) ? 'returned' : 'confirmed';
  }

  /** At shutdown; a channel closed in the middle of its setup or a publish is not a failure. */
  async close(): Promise<void> {
    await this.channel
      ?.close()
      .catch((error: Error) => this.logger.warn(`closing the publisher channel: ${error.message}`));
  }
}
