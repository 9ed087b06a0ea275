// The topology in code against the committed definitions file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  DEAD_LETTER_EXCHANGE,
  TELEGRAF_EVENTS_DLQ,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import {
  DEAD_LETTER_MAX_BYTES,
  DEAD_LETTER_MAX_LENGTH,
  declareTopology,
  definitionsFileText,
  TASKIT_TOPOLOGY,
  toDefinitions,
} from './topology.ts';

const definitionsPath = join(__dirname, '..', '..', '..', 'deploy', 'rabbitmq', 'definitions.json');

describe('RabbitMQ topology', () => {
  it('is what deploy/rabbitmq/definitions.json holds (regenerate: tools/messaging/export-definitions.mts)', () => {
    expect(readFileSync(definitionsPath, 'utf8')).toBe(definitionsFileText());
  });

  it('holds topology only, in vhost "/"', () => {
    const definitions = toDefinitions() as Record<string, unknown>;
    expect(Object.keys(definitions).sort()).toEqual(['bindings', 'exchanges', 'queues']);
    const entries = [
      ...toDefinitions().exchanges,
      ...toDefinitions().queues,
      ...toDefinitions().bindings,
    ];
    expect(entries.every((e) => e.vhost === '/')).toBe(true);
  });

  it.each([ANALYTICS_EVENTS_QUEUE, TELEGRAF_EVENTS_QUEUE])(
    'makes %s a bounded quorum queue dead-lettered at least once',
    (name) => {
      const queue = TASKIT_TOPOLOGY.queues.find((q) => q.name === name);
      expect(queue?.arguments).toMatchObject({
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      });
      expect(Number.isInteger(queue?.arguments['x-delivery-limit'])).toBe(true);
      expect(Number.isInteger(queue?.arguments['x-max-length'])).toBe(true);
    },
  );

  it.each([ANALYTICS_EVENTS_DLQ, TELEGRAF_EVENTS_DLQ])(
    'bounds %s in messages and bytes, dropping the oldest dead letters',
    (name) => {
      const queue = TASKIT_TOPOLOGY.queues.find((q) => q.name === name);
      expect(queue?.arguments).toEqual({
        'x-queue-type': 'quorum',
        'x-overflow': 'drop-head',
        'x-max-length': DEAD_LETTER_MAX_LENGTH,
        'x-max-length-bytes': DEAD_LETTER_MAX_BYTES,
      });
    },
  );

  it('routes the worker queue dead letters to analytics.task-events.dlq', () => {
    const queue = TASKIT_TOPOLOGY.queues.find((q) => q.name === ANALYTICS_EVENTS_QUEUE);
    const key = queue?.arguments['x-dead-letter-routing-key'];
    expect(TASKIT_TOPOLOGY.bindings).toContainEqual({
      exchange: DEAD_LETTER_EXCHANGE,
      queue: ANALYTICS_EVENTS_DLQ,
      routingKey: key,
    });
  });

  it('declares every queue with exactly the arguments of the definitions file', async () => {
    const asserted: { name: string; options: unknown }[] = [];
    const channel = {
      assertExchange: jest.fn(() => Promise.resolve({ exchange: '' })),
      assertQueue: jest.fn((name: string, options: unknown) => {
        asserted.push({ name, options });
        return Promise.resolve({ queue: name, messageCount: 0, consumerCount: 0 });
      }),
      bindQueue: jest.fn(() => Promise.resolve({})),
    };
    await declareTopology(channel);
    const fromFile = (
      JSON.parse(readFileSync(definitionsPath, 'utf8')) as ReturnType<typeof toDefinitions>
    ).queues;
    expect(asserted).toEqual(
      fromFile.map((q) => ({
        name: q.name,
        options: { durable: q.durable, arguments: q.arguments },
      })),
    );
    expect(channel.bindQueue).toHaveBeenCalledTimes(TASKIT_TOPOLOGY.bindings.length);
  });
});
