import { randomUUID } from 'node:crypto';
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  TASK_EVENTS_EXCHANGE,
} from '@taskit/contracts';
import { declareTopology, TASKIT_TOPOLOGY, type Topology } from '@taskit/messaging';
import { connect, type GetMessage } from 'amqplib';
import { eventually } from '../support/eventually';
import { createIsolatedStack, type IsolatedStack } from '../support/isolated-stack';
import { drainQueue, influxCounts, metricValue, publishRaw, queueDepth } from '../support/pipeline';
import { startService, type RunningProcess } from '../support/processes';

const MAX_MESSAGE_BYTES = 2_048;

function taskEventBody(userId: string, padding = 0): string {
  const data = {
    eventId: randomUUID(),
    type: 'task.created',
    taskId: 'task-1',
    userId,
    occurredAt: new Date().toISOString().replace('Z', '123456Z'),
    version: 1,
  };
  // Whitespace keeps it a valid contract event: only its size is wrong.
  return `{"pattern": "task.created", "data": ${JSON.stringify(data)}${' '.repeat(padding)}}`;
}

/** The worker's byte bound on messages and the dead-letter queues' bound (docs/limits.md). */
describe('dead letters: oversize messages and bounded DLQs', () => {
  let stack: IsolatedStack;
  let analytics: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('deadbounds');
    analytics = await startService('analytics', stack, {
      INGEST_MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
    });
  });

  afterAll(async () => {
    await analytics?.stop();
    await stack?.cleanup();
  });

  it('dead-letters a body above INGEST_MAX_MESSAGE_BYTES unread, logs and counts the reason, and keeps consuming', async () => {
    const userId = `big-${randomUUID().slice(0, 8)}`;
    const oversize = taskEventBody(userId, MAX_MESSAGE_BYTES);
    const fits = taskEventBody(userId);
    const messageId = randomUUID();
    await publishRaw(stack.rabbitmqUrl, 'task.created', oversize, messageId);
    await publishRaw(stack.rabbitmqUrl, 'task.created', fits);

    await eventually(async () => {
      expect(await queueDepth(stack.rabbitmqUrl, ANALYTICS_EVENTS_DLQ)).toBe(1);
      expect((await influxCounts(stack, userId)).worker).toEqual({ 'task.created': 1 });
    }, 20_000);
    expect(await drainQueue(stack.rabbitmqUrl, ANALYTICS_EVENTS_DLQ)).toEqual([oversize]);
    expect(
      await metricValue(
        analytics.url,
        'taskit_worker_events_dead_lettered_total{reason="oversize"}',
      ),
    ).toBe(1);
    expect(analytics.output).toMatch(
      new RegExp(`dead-lettering message ${messageId} .*oversize: ${oversize.length} bytes`),
    );
  });

  it('keeps only the newest dead letters beyond the DLQ bound, and the source queue empties', async () => {
    const bounded = await createIsolatedStack('dlqbound');
    const connection = await connect(bounded.rabbitmqUrl);
    try {
      const bound = 3;
      const topology: Topology = {
        ...TASKIT_TOPOLOGY,
        queues: TASKIT_TOPOLOGY.queues.map((queue) =>
          queue.name === ANALYTICS_EVENTS_DLQ
            ? { ...queue, arguments: { ...queue.arguments, 'x-max-length': bound } }
            : queue,
        ),
      };
      const channel = await connection.createConfirmChannel();
      await declareTopology(channel, topology);
      for (let i = 0; i < 5; i++) {
        channel.publish(TASK_EVENTS_EXCHANGE, 'task.created', Buffer.from(`poison-${i}`));
      }
      await channel.waitForConfirms();
      for (let i = 0; i < 5; i++) {
        let message: GetMessage | false = false;
        await eventually(async () => {
          message = await channel.get(ANALYTICS_EVENTS_QUEUE, { noAck: false });
          expect(message).not.toBe(false);
        });
        channel.nack(message as unknown as GetMessage, false, false);
      }
      await eventually(async () => {
        expect(await queueDepth(bounded.rabbitmqUrl, ANALYTICS_EVENTS_QUEUE)).toBe(0);
        expect(await queueDepth(bounded.rabbitmqUrl, ANALYTICS_EVENTS_DLQ)).toBe(bound);
      });
      expect(await drainQueue(bounded.rabbitmqUrl, ANALYTICS_EVENTS_DLQ)).toEqual([
        'poison-2',
        'poison-3',
        'poison-4',
      ]);
    } finally {
      await connection.close();
      await bounded.cleanup();
    }
  });
});
