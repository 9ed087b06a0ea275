import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  TASK_EVENTS_EXCHANGE,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import { declareTopology, TASKIT_TOPOLOGY } from '@taskit/messaging';
import { connect, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

/** Taskit's topology (libs/messaging) declared on the real broker. */
describe('RabbitMQ topology', () => {
  let stack: IsolatedStack;
  let connection: ChannelModel;
  let channel: ConfirmChannel;

  beforeAll(async () => {
    stack = await createIsolatedStack('rabbit');
    connection = await connect(stack.rabbitmqUrl);
    channel = await connection.createConfirmChannel();
    await declareTopology(channel);
  });

  afterAll(async () => {
    await connection.close();
    await stack.cleanup();
  });

  const publish = (routingKey: string, body: string) =>
    new Promise<void>((resolve, reject) =>
      channel.publish(
        TASK_EVENTS_EXCHANGE,
        routingKey,
        Buffer.from(body),
        { persistent: true, messageId: body },
        (error) => (error ? reject(error as Error) : resolve()),
      ),
    );

  async function get(queue: string): Promise<GetMessage> {
    for (let i = 0; i < 100; i++) {
      const message = await channel.get(queue, { noAck: false });
      if (message) return message;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`nothing arrived in ${queue}`);
  }

  it('is idempotent: declaring it again with the same arguments succeeds', async () => {
    await expect(declareTopology(channel)).resolves.toBeUndefined();
  });

  it('declares the event queues and DLQs as quorum queues (a classic declare is refused)', async () => {
    const quorum = TASKIT_TOPOLOGY.queues.filter((q) => q.arguments['x-queue-type'] === 'quorum');
    expect(quorum.map((q) => q.name)).toEqual(
      expect.arrayContaining([ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE, ANALYTICS_EVENTS_DLQ]),
    );
    for (const queue of quorum) {
      const other = await connection.createChannel();
      other.on('error', () => undefined);
      await expect(other.assertQueue(queue.name, { durable: true })).rejects.toThrow(
        /PRECONDITION_FAILED/,
      );
    }
  });

  it('routes every task event to both the worker and the Telegraf queue', async () => {
    await publish('task.completed', 'fan-out');
    for (const queue of [ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE]) {
      const message = await get(queue);
      expect(message.content.toString()).toBe('fan-out');
      channel.ack(message);
    }
  });

  it("dead-letters a rejected message into the queue's own DLQ", async () => {
    await publish('task.created', 'poison');
    const delivered = await get(ANALYTICS_EVENTS_QUEUE);
    channel.nack(delivered, false, false);
    const dead = await get(ANALYTICS_EVENTS_DLQ);
    expect(dead.content.toString()).toBe('poison');
    expect(dead.properties.headers?.['x-first-death-queue']).toBe(ANALYTICS_EVENTS_QUEUE);
    channel.ack(dead);
    const telegrafCopy = await get(TELEGRAF_EVENTS_QUEUE);
    channel.ack(telegrafCopy);
  });
});
