import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  routingKeyFor,
  TASK_EVENTS_EXCHANGE,
  type TaskEvent,
  type TaskEventMessage,
} from '@taskit/contracts';
import { AMQP_CONNECTION, declareTopology } from '@taskit/messaging';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { PublishFailureReason } from './outbox-metrics';

/** How long one publish may wait for the broker's confirm before it counts as failed. */
export const PUBLISH_TIMEOUT_MS = 5_000;

export type PublishOutcome = 'confirmed' | PublishFailureReason;

/** The body on the wire: the Nest RMQ shape `{pattern, data}` (CONTRACT section 4). */
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

  async publish(event: TaskEvent): Promise<PublishOutcome> {
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
