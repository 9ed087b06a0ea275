import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { HttpError, type InfluxDB, type Point } from '@influxdata/influxdb-client';
import type { AmqpConnectionManager } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage } from 'amqplib';
import { Registry } from 'prom-client';
import { EventConsumer, type EventConsumerOptions } from './event-consumer';
import { IngestMetrics } from './ingest-metrics';

/** What the consumer did with each delivery, in order. */
type Decision = { tag: number; ack: true } | { tag: number; nack: true; requeue: boolean };

/** A channel that records acks and nacks and hands deliveries to the consumer's callback. */
class FakeChannel {
  readonly decisions: Decision[] = [];
  private deliver?: (message: ConsumeMessage | null) => void;
  private closeListener?: () => void;
  private tag = 0;

  once(event: string, listener: () => void) {
    if (event === 'close') this.closeListener = listener;
  }
  assertExchange() {
    return Promise.resolve();
  }
  assertQueue() {
    return Promise.resolve();
  }
  bindQueue() {
    return Promise.resolve();
  }
  prefetch() {
    return Promise.resolve();
  }
  consume(_queue: string, deliver: (message: ConsumeMessage | null) => void) {
    this.deliver = deliver;
    return Promise.resolve({ consumerTag: 'c1' });
  }
  ack(message: ConsumeMessage) {
    this.decisions.push({ tag: message.fields.deliveryTag, ack: true });
  }
  nack(message: ConsumeMessage, _allUpTo: boolean, requeue: boolean) {
    this.decisions.push({ tag: message.fields.deliveryTag, nack: true, requeue });
  }
  close() {
    this.closeListener?.();
  }

  /** Delivers a body; returns its delivery tag. */
  push(content: Buffer): number {
    const deliveryTag = ++this.tag;
    this.deliver?.({
      content,
      fields: { deliveryTag, routingKey: 'task.created' },
      properties: { messageId: `m${deliveryTag}` },
    } as unknown as ConsumeMessage);
    return deliveryTag;
  }
}

/** An InfluxDB write API that fails the next flushes with `failures`, recording every batch. */
class FakeWriteApi {
  readonly batches: string[][] = [];
  private lines: string[] = [];
  failures: (Error | undefined)[] = [];
  reject?: (line: string) => boolean;

  writePoints(points: Point[]) {
    this.lines.push(...points.map((point) => point.toLineProtocol() ?? ''));
  }
  flush(): Promise<void> {
    const lines = this.lines;
    this.lines = [];
    const failure = this.failures.shift();
    if (failure) return Promise.reject(failure);
    if (this.reject && lines.some(this.reject)) {
      return Promise.reject(new HttpError(400, 'Bad Request', 'partial write: field type'));
    }
    this.batches.push(lines);
    return Promise.resolve();
  }
}

const OPTIONS: EventConsumerOptions = {
  org: '-',
  bucket: 'taskit/autogen',
  batchSize: 3,
  prefetch: 10,
  batchWaitMs: 20,
  maxBackoffMs: 40,
  maxMessageBytes: 1_024,
};

function taskEvent(taskId = '6b07e21e530b1a4d293d6cd8') {
  const data = {
    eventId: randomUUID(),
    type: 'task.created',
    taskId,
    userId: '6b07e21e530b1a4d293d6cd9',
    occurredAt: '2026-11-26T06:46:21.123456789Z',
    version: 1,
  };
  return Buffer.from(JSON.stringify({ pattern: 'task.created', data }));
}

async function started(options: Partial<EventConsumerOptions> = {}) {
  const channel = new FakeChannel();
  const writeApi = new FakeWriteApi();
  const registry = new Registry();
  const connection = {
    createChannel: ({ setup }: { setup: (channel: Channel) => Promise<void> }) => {
      const ready = setup(channel as unknown as Channel);
      return { on: () => undefined, close: () => Promise.resolve(), ready };
    },
  };
  const influx = { getWriteApi: () => writeApi };
  const consumer = new EventConsumer(
    connection as unknown as AmqpConnectionManager,
    influx as unknown as InfluxDB,
    new IngestMetrics(registry),
    { ...OPTIONS, ...options },
  );
  consumer.onApplicationBootstrap();
  await new Promise((resolve) => setImmediate(resolve)); // the channel's setup consumes
  const metric = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.reduce((sum, v) => sum + v.value, 0);
  return { channel, writeApi, consumer, metric };
}

const until = async (condition: () => boolean, ms = 2_000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('EventConsumer', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('writes a full batch at once and acks its messages only after the write', async () => {
    const { channel, writeApi, consumer } = await started();
    const tags = [channel.push(taskEvent()), channel.push(taskEvent()), channel.push(taskEvent())];
    expect(channel.decisions).toEqual([]); // nothing acked before InfluxDB has the points
    await until(() => channel.decisions.length === 3);
    expect(writeApi.batches.map((b) => b.length)).toEqual([3]);
    expect(channel.decisions).toEqual(tags.map((tag) => ({ tag, ack: true })));
    await consumer.beforeApplicationShutdown();
  });

  it('writes a partial batch after batchWaitMs', async () => {
    const { channel, writeApi, consumer } = await started({ batchWaitMs: 30 });
    channel.push(taskEvent());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(writeApi.batches).toEqual([]);
    await until(() => channel.decisions.length === 1);
    expect(writeApi.batches.map((b) => b.length)).toEqual([1]);
    await consumer.beforeApplicationShutdown();
  });

  it('dead-letters a message it cannot parse at once, without requeue', async () => {
    const { channel, consumer, metric } = await started();
    const bad = channel.push(Buffer.from('{"pattern": "task.created", '));
    expect(channel.decisions).toEqual([{ tag: bad, nack: true, requeue: false }]);
    expect(await metric('taskit_worker_events_dead_lettered_total')).toBe(1);
    await consumer.beforeApplicationShutdown();
  });

  it('dead-letters a body above maxMessageBytes without parsing it, even a valid event', async () => {
    const { channel, writeApi, consumer, metric } = await started();
    const valid = taskEvent();
    const padded = Buffer.concat([valid.subarray(0, -1), Buffer.from(`${' '.repeat(1_024)}}`)]);
    expect(JSON.parse(padded.toString())).toEqual(JSON.parse(valid.toString()));
    const parse = jest.spyOn(JSON, 'parse');
    const big = channel.push(padded);
    expect(parse).not.toHaveBeenCalled();
    parse.mockRestore();
    expect(channel.decisions).toEqual([{ tag: big, nack: true, requeue: false }]);
    expect(await metric('taskit_worker_events_dead_lettered_total')).toBe(1);
    const fits = channel.push(valid);
    await until(() => channel.decisions.length === 2);
    expect(channel.decisions[1]).toEqual({ tag: fits, ack: true });
    expect(writeApi.batches.map((b) => b.length)).toEqual([1]);
    await consumer.beforeApplicationShutdown();
  });

  it('keeps a batch unacked while InfluxDB is down, retries, then acks it once', async () => {
    const { channel, writeApi, consumer, metric } = await started();
    writeApi.failures = [new Error('ECONNREFUSED'), new Error('ECONNREFUSED')];
    const tags = [channel.push(taskEvent()), channel.push(taskEvent()), channel.push(taskEvent())];
    await until(() => channel.decisions.length === 3);
    expect(writeApi.failures).toEqual([]); // both failures were seen: two retries
    expect(writeApi.batches).toHaveLength(1);
    expect(channel.decisions).toEqual(tags.map((tag) => ({ tag, ack: true })));
    expect(await metric('taskit_worker_events_acked_total')).toBe(3);
    await consumer.beforeApplicationShutdown();
  });

  it('isolates a point InfluxDB rejects: the others are acked, that one dead-lettered', async () => {
    const { channel, writeApi, consumer } = await started();
    const badTask = 'ffffffffffffffffffffffff';
    writeApi.reject = (line) => line.includes(badTask);
    const good1 = channel.push(taskEvent());
    const bad = channel.push(taskEvent(badTask));
    const good2 = channel.push(taskEvent());
    await until(() => channel.decisions.length === 3);
    expect(channel.decisions).toEqual([
      { tag: good1, ack: true },
      { tag: bad, nack: true, requeue: false },
      { tag: good2, ack: true },
    ]);
    expect(writeApi.batches.map((b) => b.length)).toEqual([1, 1]);
    await consumer.beforeApplicationShutdown();
  });

  it('drops the deliveries of a closed channel: the broker redelivers them', async () => {
    const { channel, writeApi, consumer } = await started({ batchWaitMs: 30 });
    channel.push(taskEvent());
    channel.close();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writeApi.batches).toEqual([]);
    expect(channel.decisions).toEqual([]);
    await consumer.beforeApplicationShutdown();
  });

  it('stops retrying on shutdown and leaves the batch unacked', async () => {
    const { channel, writeApi, consumer } = await started();
    writeApi.failures = Array.from({ length: 100 }, () => new Error('ECONNREFUSED'));
    channel.push(taskEvent());
    channel.push(taskEvent());
    channel.push(taskEvent());
    await until(() => writeApi.failures.length < 100);
    await consumer.beforeApplicationShutdown();
    expect(channel.decisions).toEqual([]);
  });
});
