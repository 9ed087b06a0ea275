import { randomUUID } from 'node:crypto';
import { InfluxDB } from '@influxdata/influxdb-client';
import {
  TASK_EVENTS_BINDING,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TELEGRAF_EVENTS_QUEUE,
  type TaskEventMessage,
} from '@taskit/contracts';
import { connect, type ChannelModel } from 'amqplib';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { eventually } from '../support/eventually';
import { startTelegraf, type RunningProcess } from '../support/processes';

describe('Telegraf with deploy/telegraf/telegraf.conf', () => {
  let stack: IsolatedStack;
  let connection: ChannelModel;
  let telegraf: RunningProcess | undefined;

  beforeAll(async () => {
    stack = await createIsolatedStack('telegraf');
    connection = await connect(stack.rabbitmqUrl);
    const channel = await connection.createChannel();
    await channel.assertExchange(TASK_EVENTS_EXCHANGE, 'topic', { durable: true });
    await channel.assertQueue(TELEGRAF_EVENTS_QUEUE, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
    await channel.bindQueue(TELEGRAF_EVENTS_QUEUE, TASK_EVENTS_EXCHANGE, TASK_EVENTS_BINDING);
    await channel.close();
  });

  afterAll(async () => {
    await telegraf?.stop();
    await connection.close();
    await stack.cleanup();
  });

  it('consumes a task event and writes it as a point with source=telegraf', async () => {
    telegraf = startTelegraf(stack);
    const message: TaskEventMessage = {
      pattern: 'task.completed',
      data: {
        eventId: randomUUID(),
        type: 'task.completed',
        taskId: 'task-1',
        userId: 'user-1',
        occurredAt: '2026-11-26T06:46:21.123456789Z',
        version: 1,
      },
    };
    const channel = await connection.createConfirmChannel();
    channel.publish(TASK_EVENTS_EXCHANGE, 'task.completed', Buffer.from(JSON.stringify(message)), {
      persistent: true,
      contentType: 'application/json',
      messageId: message.data.eventId,
    });
    await channel.waitForConfirms();

    const query = new InfluxDB({ url: stack.influxUrl, token: '' }).getQueryApi('-');
    const expected = {
      _time: '2026-11-26T06:46:21.123456789Z',
      type: 'task.completed',
      user_id: 'user-1',
      source: 'telegraf',
      task_id: 'task-1',
      event_id: message.data.eventId,
      count: 1,
    };
    // InfluxDB 1.8 adds a point to its cache one field at a time (one entry per series and
    // field), so a query racing the write can see some of its fields: wait for the whole point.
    await eventually(
      async () => {
        const rows = await query.collectRows(
          `from(bucket: "${stack.influxBucket}")
             |> range(start: 2026-11-26T00:00:00Z, stop: 2026-11-27T00:00:00Z)
             |> filter(fn: (r) => r._measurement == "${TASK_EVENTS_MEASUREMENT}")
             |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")`,
        );
        expect(rows).toEqual([expect.objectContaining(expected)]);
      },
      30_000,
      500,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- telegraf output ---\n${telegraf?.output}`);
    });
    await channel.close();
  });
});
