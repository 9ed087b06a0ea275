import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';

describe('RabbitMQ', () => {
  let stack: IsolatedStack;
  let connection: ChannelModel;

  beforeAll(async () => {
    stack = await createIsolatedStack('rabbit');
    connection = await connect(stack.rabbitmqUrl);
  });

  afterAll(async () => {
    await connection.close();
    await stack.cleanup();
  });

  it('publishes with confirms to a quorum queue and consumes with a manual ack', async () => {
    const channel: ConfirmChannel = await connection.createConfirmChannel();
    await channel.assertExchange('test.events', 'topic', { durable: true });
    const queue = await channel.assertQueue('test.quorum', {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await channel.bindQueue(queue.queue, 'test.events', 'task.#');

    const body = Buffer.from(JSON.stringify({ pattern: 'task.created', data: { n: 1 } }));
    await new Promise<void>((resolve, reject) =>
      channel.publish(
        'test.events',
        'task.created',
        body,
        { persistent: true, messageId: 'm-1', contentType: 'application/json' },
        (error) => (error ? reject(error as Error) : resolve()),
      ),
    );

    const received = await new Promise<{ id: unknown; body: string }>((resolve) => {
      void channel.consume(queue.queue, (message) => {
        if (!message) return;
        channel.ack(message);
        resolve({ id: message.properties.messageId, body: message.content.toString() });
      });
    });
    expect(received).toEqual({ id: 'm-1', body: body.toString() });
    await channel.close();
  });
});
