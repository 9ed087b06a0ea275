import {
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpError, type InfluxDB, type Point, type WriteApi } from '@influxdata/influxdb-client';
import { ANALYTICS_EVENTS_QUEUE } from '@taskit/contracts';
import { declareTopology } from '@taskit/messaging';
import { contextFromHeaders, inSpan, startSpan } from '@taskit/observability';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { DeadLetterReason, IngestMetrics } from './ingest-metrics';
import { parseTaskEventMessage, toPoint } from './task-event-message';

export interface EventConsumerOptions {
  org: string;
  bucket: string;
  batchSize: number;
  prefetch: number;
  batchWaitMs: number;
  maxBackoffMs: number;
  /** Larger bodies are dead-lettered unread. */
  maxMessageBytes: number;
}

interface Pending {
  channel: Channel;
  message: ConsumeMessage;
  point: Point;
  /** The event's occurredAt, for the lag from the change to its point in InfluxDB. */
  occurredAtMs: number;
  /** From delivery to ack (or dead-lettering), continuing the message's `traceparent`. */
  span: Span;
}

type WriteOutcome = 'ok' | 'retry' | 'rejected';

/** InfluxDB refuses the data itself (bad point, too large): retrying cannot help. */
function isDataRejection(error: unknown): boolean {
  return error instanceof HttpError && [400, 413, 422].includes(error.statusCode);
}

/**
 * The analytics worker's consumer of `analytics.task-events`, with manual acks.
 *
 * A plain amqp-connection-manager consumer on the process's connection, not Nest's RMQ
 * server: Nest handles one message per handler call, while this worker writes batches and
 * acks a batch only after InfluxDB accepted it. Deliveries (per-consumer prefetch) collect
 * in a buffer; one writer takes up to `batchSize` points, writes them (WriteApi with
 * maxRetries 0 and flushInterval 0, `await flush()`), then acks them on the channel that
 * delivered them. While InfluxDB is down the batch stays unacked and the writer retries
 * with exponential backoff: no requeue, so quorum-queue delivery counts do not grow during an
 * outage. A body above `maxMessageBytes` (not even parsed), a message that cannot be parsed,
 * or a point InfluxDB rejects as bad data (400, 413, 422, isolated by writing the batch's
 * points one by one), is nacked without requeue: the queue dead-letters it to
 * analytics.task-events.dlq. If the channel or the process dies,
 * the broker redelivers the unacked messages, and their points overwrite themselves.
 *
 * Tracing: each delivery gets a consume span continuing the trace of its `traceparent` header
 * (the relay's publish), and each write attempt an `influxdb write` span under every
 * delivery's consume span, so that every change's trace ends in InfluxDB. One write serves the
 * whole batch: it runs in the first delivery's span (the HTTP call to InfluxDB is there), and
 * the others' write spans link to that one.
 */
export class EventConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(EventConsumer.name);
  private channel?: ChannelWrapper;
  private writeApi?: WriteApi;
  private readonly closedChannels = new WeakSet<Channel>();
  private buffer: Pending[] = [];
  private writer?: Promise<void>;
  private batchTimer?: NodeJS.Timeout;
  private stopping = false;
  private wakeBackoff?: () => void;

  constructor(
    private readonly connection: AmqpConnectionManager,
    private readonly influx: InfluxDB,
    private readonly metrics: IngestMetrics,
    private readonly options: EventConsumerOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.writeApi = this.influx.getWriteApi(this.options.org, this.options.bucket, 'ns', {
      // Never an automatic flush (its errors are swallowed) and never a hidden retry.
      batchSize: this.options.batchSize + 1,
      flushInterval: 0,
      maxRetries: 0,
      maxBufferLines: this.options.batchSize + 1,
    });
    this.channel = this.connection.createChannel({
      name: 'analytics-ingest',
      confirm: false,
      setup: async (channel: Channel) => {
        channel.once('close', () => this.closedChannels.add(channel));
        await declareTopology(channel);
        await channel.prefetch(this.options.prefetch, false);
        await channel.consume(
          ANALYTICS_EVENTS_QUEUE,
          (message) => this.onMessage(channel, message),
          {
            noAck: false,
          },
        );
        this.logger.log(`consuming ${ANALYTICS_EVENTS_QUEUE} (prefetch ${this.options.prefetch})`);
      },
    });
    this.channel.on('error', (error: Error) =>
      this.logger.error(`ingest channel: ${error.message}`),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.batchTimer);
    this.wakeBackoff?.();
    await this.writer;
    // Closing the channel returns every unacked delivery to the queue.
    await this.channel?.close().catch(() => undefined);
  }

  private onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (!message) {
      this.logger.warn(`the broker cancelled the consumer of ${ANALYTICS_EVENTS_QUEUE}`);
      return;
    }
    this.metrics.consumed.inc();
    const span = startSpan(
      `process ${ANALYTICS_EVENTS_QUEUE}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'process',
          'messaging.destination.name': ANALYTICS_EVENTS_QUEUE,
          'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
          'messaging.message.id': String(message.properties.messageId ?? ''),
        },
      },
      contextFromHeaders(message.properties.headers),
    );
    if (message.content.length > this.options.maxMessageBytes) {
      // Refused before parsing: one body of any size must not cost the worker its memory.
      this.deadLetter(
        { channel, message, span },
        'oversize',
        `${message.content.length} bytes, above INGEST_MAX_MESSAGE_BYTES (${this.options.maxMessageBytes})`,
      );
      return;
    }
    const parsed = parseTaskEventMessage(message.content);
    if (!parsed.ok) {
      this.deadLetter({ channel, message, span }, parsed.reason, parsed.detail);
      return;
    }
    this.buffer.push({
      channel,
      message,
      point: toPoint(parsed.event, parsed.timestampNs),
      occurredAtMs: Date.parse(parsed.event.occurredAt),
      span,
    });
    if (this.buffer.length >= this.options.batchSize) this.startWriter();
    else this.batchTimer ??= setTimeout(() => this.startWriter(), this.options.batchWaitMs);
  }

  private deadLetter(
    { channel, message, span }: Pick<Pending, 'channel' | 'message' | 'span'>,
    reason: DeadLetterReason,
    detail: string,
  ): void {
    span.setStatus({ code: SpanStatusCode.ERROR, message: `dead-lettered: ${reason}` });
    span.end();
    this.logger.warn(
      `dead-lettering message ${String(message.properties.messageId ?? '(no id)')} ` +
        `(routing key ${message.fields.routingKey}): ${reason}: ${detail}`,
    );
    if (this.isOpen(channel)) channel.nack(message, false, false);
    this.metrics.deadLettered.inc({ reason });
  }

  private isOpen(channel: Channel): boolean {
    return !this.closedChannels.has(channel);
  }

  private startWriter(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    if (this.writer || this.stopping) return;
    this.writer = this.drain().finally(() => {
      this.writer = undefined;
      if (this.buffer.length > 0 && !this.stopping) this.startWriter();
    });
  }

  /** The one writer: batches in order, one in flight at a time. */
  private async drain(): Promise<void> {
    while (this.buffer.length > 0 && !this.stopping) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      await this.writeBatch(batch);
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    let live = batch;
    for (let attempt = 0; ; attempt++) {
      live = this.withoutRequeued(live);
      if (live.length === 0) return;
      const outcome = await this.tracedWrite(live);
      if (outcome === 'ok') {
        const writtenAtMs = Date.now();
        for (const p of live) {
          if (this.isOpen(p.channel)) p.channel.ack(p.message);
          p.span.end();
          this.metrics.eventLag.observe(Math.max(0, writtenAtMs - p.occurredAtMs) / 1000);
        }
        this.metrics.acked.inc(live.length);
        return;
      }
      if (outcome === 'rejected') {
        if (live.length > 1) {
          for (const p of live) await this.writeBatch([p]);
        } else {
          this.deadLetter(live[0], 'influx_rejected', 'InfluxDB refused the point');
        }
        return;
      }
      if (this.stopping) {
        // Unacked: the broker redelivers after the channel closes.
        for (const p of live) p.span.end();
        return;
      }
      await this.backoff(attempt);
    }
  }

  /** Deliveries of a closed channel are back in the queue: their spans end, they are dropped. */
  private withoutRequeued(batch: Pending[]): Pending[] {
    const live: Pending[] = [];
    for (const pending of batch) {
      if (this.isOpen(pending.channel)) {
        live.push(pending);
      } else {
        pending.span.setAttribute('taskit.requeued', true);
        pending.span.end();
      }
    }
    return live;
  }

  private tracedWrite(batch: Pending[]): Promise<WriteOutcome> {
    const [first, ...others] = batch;
    const options = {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'influxdb',
        'db.operation.name': 'write',
        'db.namespace': this.options.bucket,
        'db.operation.batch.size': batch.length,
      },
    };
    return inSpan(
      'influxdb write',
      options,
      async (span) => {
        const link = { context: span.spanContext() };
        const shared = others.map((p) =>
          startSpan(
            'influxdb write',
            { ...options, links: [link] },
            trace.setSpan(ROOT_CONTEXT, p.span),
          ),
        );
        const outcome = await this.write(batch.map((p) => p.point));
        for (const s of [span, ...shared]) {
          if (outcome !== 'ok') s.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
        }
        for (const s of shared) s.end();
        return outcome;
      },
      trace.setSpan(ROOT_CONTEXT, first.span),
    );
  }

  private async write(points: Point[]): Promise<WriteOutcome> {
    const writeApi = this.writeApi;
    if (!writeApi) return 'retry';
    const end = this.metrics.writeDuration.startTimer();
    this.metrics.batchSize.observe(points.length);
    try {
      writeApi.writePoints(points);
      await writeApi.flush();
      end({ outcome: 'ok' });
      return 'ok';
    } catch (error) {
      const rejected = isDataRejection(error);
      end({ outcome: rejected ? 'rejected' : 'retry' });
      this.logger.warn(
        `InfluxDB write of ${points.length} points failed${rejected ? '' : ', will retry'}: ${(error as Error).message}`,
      );
      return rejected ? 'rejected' : 'retry';
    }
  }

  private backoff(attempt: number): Promise<void> {
    const ms = Math.min(this.options.maxBackoffMs, 200 * 2 ** Math.min(attempt, 10));
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wakeBackoff = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
