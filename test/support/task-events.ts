import { TASK_EVENTS_BINDING, TASK_EVENTS_EXCHANGE } from '@taskit/contracts';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { mongo } from 'mongoose';
import type { IsolatedStack } from './isolated-stack';

export interface RecordedEvent {
  eventId: string;
  type: string;
  taskId: string;
  userId: string;
  occurredAt: string;
  version: number;
}

/**
 * Every task event the gateway recorded on an isolated stack, wherever it is now: still in a
 * task document's outbox (the relay has not run) or already published to `taskit.events`
 * (when the outbox relay runs and removed it from the outbox). Deduplicated by eventId, so
 * the assertions hold whether or not the relay is wired into the gateway.
 */
export class TaskEventCollector {
  private client?: mongo.MongoClient;
  private amqp?: ChannelModel;
  private published = new Map<string, RecordedEvent>();

  constructor(private readonly stack: IsolatedStack) {}

  /** Call after the gateway is ready (the relay, if any, has declared the exchange by then). */
  async start(): Promise<void> {
    this.client = new mongo.MongoClient(this.stack.mongodbUri, { serverSelectionTimeoutMS: 5_000 });
    await this.client.connect();
    this.amqp = await connect(this.stack.rabbitmqUrl);
    // checkExchange closes the channel when the exchange is missing: probe on a throw-away one.
    const probe = await this.amqp.createChannel();
    probe.on('error', () => undefined);
    const exists = await probe.checkExchange(TASK_EVENTS_EXCHANGE).then(
      () => true,
      () => false,
    );
    if (exists) {
      await probe.close().catch(() => undefined);
      const channel: Channel = await this.amqp.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, TASK_EVENTS_EXCHANGE, TASK_EVENTS_BINDING);
      await channel.consume(
        queue,
        (message) => {
          if (!message) return;
          const body = JSON.parse(message.content.toString()) as { data: RecordedEvent };
          this.published.set(body.data.eventId, body.data);
        },
        { noAck: true },
      );
    }
  }

  get db(): mongo.Db {
    if (!this.client) throw new Error('TaskEventCollector not started');
    return this.client.db();
  }

  async stop(): Promise<void> {
    await this.amqp?.close().catch(() => undefined);
    await this.client?.close();
  }

  /** All events of `userId`, in no particular order. */
  async eventsOf(userId: string): Promise<RecordedEvent[]> {
    const all = new Map(this.published);
    const documents = await this.db
      .collection('tasks')
      .find({ userId: new mongo.ObjectId(userId) }, { projection: { outbox: 1 } })
      .toArray();
    for (const document of documents) {
      for (const event of (document.outbox ?? []) as RecordedEvent[]) all.set(event.eventId, event);
    }
    return [...all.values()].filter((event) => event.userId === userId);
  }

  /** Event types per task id, each list sorted by occurredAt. */
  async typesByTask(userId: string): Promise<Record<string, string[]>> {
    const events = (await this.eventsOf(userId)).sort((a, b) =>
      a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0,
    );
    const byTask: Record<string, string[]> = {};
    for (const event of events) (byTask[event.taskId] ??= []).push(event.type);
    return byTask;
  }
}
