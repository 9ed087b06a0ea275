import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  ANALYTICS_RPC_QUEUE,
  TELEGRAF_EVENTS_DLQ,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import {
  EVENTS_DELIVERY_LIMIT,
  TASKIT_TOPOLOGY,
  type BindingSpec,
  type QueueSpec,
} from '@taskit/messaging/topology';
import { connect, type Channel, type ChannelModel } from 'amqplib';
import { errorMessage, fail, pass, type Check } from './check';
import { labelOf, scrape } from './metrics-text';
import { redact, vhostOf, type DoctorSettings } from './settings';
import { managementApi, type ManagementApi } from './rabbitmq-management';

const execFileAsync = promisify(execFile);

/** Ready messages and consumers of a queue (AMQP passive declare), unacked when known. */
export interface QueueFigures {
  ready: number;
  consumers: number;
  unacked?: number;
}

export interface RabbitResult {
  checks: Check[];
  reachable: boolean;
  queues: Map<string, QueueFigures>;
}

/** Who must consume each queue, and what 0 consumers means. */
const CONSUMERS: Record<string, { who: string; next: string } | undefined> = {
  [ANALYTICS_EVENTS_QUEUE]: {
    who: 'the analytics worker',
    next: 'npm run up, or tail .run/logs/analytics.log (Kubernetes: kubectl -n taskit logs deploy/analytics)',
  },
  [TELEGRAF_EVENTS_QUEUE]: {
    who: 'Telegraf',
    next: 'tail .run/logs/telegraf.log (Kubernetes: kubectl -n taskit logs deploy/telegraf); a misspelled queue in its config shows in the settings check',
  },
  [ANALYTICS_RPC_QUEUE]: {
    who: 'the analytics RPC server',
    next: 'tail .run/logs/analytics.log (Kubernetes: kubectl -n taskit logs deploy/analytics)',
  },
};

const DLQ_OF: Record<string, string> = {
  [ANALYTICS_EVENTS_DLQ]: ANALYTICS_EVENTS_QUEUE,
  [TELEGRAF_EVENTS_DLQ]: TELEGRAF_EVENTS_QUEUE,
};

/** Runs `operation` on a channel of its own: a 404/406 closes only that channel. */
async function onChannel<T>(connection: ChannelModel, operation: (c: Channel) => Promise<T>) {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return await operation(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Existence is checked with a passive declare (changes nothing); the contract's arguments by
 * then re-declaring the existing entity with exactly them, which is a no-op when they match
 * and a 406 PRECONDITION_FAILED naming the differing argument when they do not. Nothing is
 * declared that does not exist already.
 */
async function checkQueueSpec(connection: ChannelModel, spec: QueueSpec) {
  let figures: QueueFigures;
  try {
    const ok = await onChannel(connection, (c) => c.checkQueue(spec.name));
    figures = { ready: ok.messageCount, consumers: ok.consumerCount };
  } catch (error) {
    return { missing: true, problem: errorMessage(error) };
  }
  try {
    await onChannel(connection, (c) =>
      c.assertQueue(spec.name, { durable: spec.durable, arguments: spec.arguments }),
    );
    return { figures };
  } catch (error) {
    return { figures, problem: errorMessage(error) };
  }
}

async function workerDeadLetterReasons(analyticsUrl: string | undefined): Promise<string> {
  const reasons = (await scrape(analyticsUrl))
    .filter((s) => s.name === 'taskit_worker_events_dead_lettered_total' && s.value > 0)
    .map((s) => `${labelOf(s.labels, 'reason')} ${s.value}`);
  return reasons.length ? `; the worker dead-lettered since its start: ${reasons.join(', ')}` : '';
}

function queueCheck(
  spec: QueueSpec,
  result: Awaited<ReturnType<typeof checkQueueSpec>>,
  vhost: string,
  reasons: string,
): Check {
  const name = `queue ${spec.name}`;
  if (!result.figures) {
    return fail(
      'rabbitmq',
      name,
      `missing in vhost ${vhost}`,
      'The services declare the topology when they start: start the analytics service or gateway (npm run up), or load deploy/rabbitmq/definitions.json.',
    );
  }
  const f = result.figures;
  const detail = `${f.consumers} consumer${f.consumers === 1 ? '' : 's'}, ${f.ready} ready${f.unacked === undefined ? '' : `, ${f.unacked} unacked`}`;
  if (result.problem) {
    return fail(
      'rabbitmq',
      name,
      `${detail}; other arguments than the contract's: ${result.problem}`,
      `Someone declared ${spec.name} differently: compare with deploy/rabbitmq/definitions.json; it must be deleted and re-declared by the services (this loses its messages).`,
    );
  }
  const dlqOf = DLQ_OF[spec.name];
  if (dlqOf && f.ready > 0) {
    return fail(
      'rabbitmq',
      name,
      `${f.ready} dead letter${f.ready === 1 ? '' : 's'} from ${dlqOf}${spec.name === ANALYTICS_EVENTS_DLQ ? reasons : ''}`,
      `Messages a consumer could not process (off the contract, or ${EVENTS_DELIVERY_LIMIT} failed deliveries): see the consumer's log for the reason, fix the publisher, then purge: rabbitmqctl purge_queue -p ${vhost} ${spec.name}.`,
    );
  }
  const consumer = CONSUMERS[spec.name];
  if (consumer && f.consumers === 0) {
    return fail(
      'rabbitmq',
      name,
      detail,
      `No consumer: ${consumer.who} is down or not connected${f.ready ? `, ${f.ready} messages wait` : ''}. Next: ${consumer.next}.`,
    );
  }
  return pass('rabbitmq', name, detail);
}

/** Bindings as listed by the management API or, on the local broker, rabbitmqctl. */
async function listBindings(settings: DoctorSettings, api: ManagementApi | undefined) {
  const vhost = vhostOf(settings.rabbitmqUrl);
  if (api) return { via: 'management API', bindings: await api.bindings(vhost) };
  const url = new URL(settings.rabbitmqUrl);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!local || (url.port || '5672') !== '5672') return undefined;
  const { stdout } = await execFileAsync(
    'rabbitmqctl',
    ['-q', 'list_bindings', '-p', vhost, 'source_name', 'destination_name', 'routing_key'],
    { timeout: 10_000 },
  );
  const bindings = stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((cols) => cols.length === 3)
    .map(([exchange, queue, routingKey]) => ({ exchange, queue, routingKey }));
  return { via: 'rabbitmqctl', bindings };
}

async function bindingsCheck(
  settings: DoctorSettings,
  api: ManagementApi | undefined,
): Promise<Check> {
  const name = 'bindings';
  const listed = await listBindings(settings, api).catch(() => undefined);
  if (!listed) {
    return pass(
      'rabbitmq',
      name,
      'not listed: no management API (rabbitmq_management plugin) and not the local broker; --probe proves both routes end to end',
    );
  }
  const key = (b: BindingSpec) => `${b.exchange} → ${b.queue} (${b.routingKey})`;
  const present = new Set(listed.bindings.map(key));
  const missing = TASKIT_TOPOLOGY.bindings.filter((b) => !present.has(key(b)));
  if (missing.length > 0) {
    return fail(
      'rabbitmq',
      name,
      `missing: ${missing.map(key).join('; ')} (via ${listed.via})`,
      'Events published to the exchange do not reach that queue: restart the analytics service or gateway (they declare the topology), or load deploy/rabbitmq/definitions.json.',
    );
  }
  return pass(
    'rabbitmq',
    name,
    `${TASKIT_TOPOLOGY.bindings.length} of ${TASKIT_TOPOLOGY.bindings.length} present (via ${listed.via})`,
  );
}

export async function checkRabbitMq(settings: DoctorSettings): Promise<RabbitResult> {
  const queues = new Map<string, QueueFigures>();
  const vhost = vhostOf(settings.rabbitmqUrl);
  let connection: ChannelModel;
  try {
    connection = await connect(settings.rabbitmqUrl, {
      timeout: 3_000,
      clientProperties: { connection_name: 'taskit-doctor' },
    });
  } catch (error) {
    return {
      reachable: false,
      queues,
      checks: [
        fail(
          'rabbitmq',
          'connection',
          `cannot connect to ${redact(settings.rabbitmqUrl)}: ${errorMessage(error)}`,
          'RabbitMQ is down or the URL/vhost/credentials are wrong: npm run services (local), rabbitmqctl status, or kubectl -n taskit get pods -l app=rabbitmq.',
        ),
      ],
    };
  }
  connection.on('error', () => undefined);
  const checks: Check[] = [
    pass('rabbitmq', 'connection', `connected to ${redact(settings.rabbitmqUrl)}`),
  ];
  try {
    const api = await managementApi(settings.rabbitmqManagementUrl);
    for (const spec of TASKIT_TOPOLOGY.exchanges) {
      const name = `exchange ${spec.name}`;
      try {
        await onChannel(connection, (c) => c.checkExchange(spec.name));
      } catch {
        checks.push(
          fail(
            'rabbitmq',
            name,
            `missing in vhost ${vhost}`,
            'Nothing can be published: start the gateway or analytics service (they declare the topology), or load deploy/rabbitmq/definitions.json.',
          ),
        );
        continue;
      }
      try {
        await onChannel(connection, (c) =>
          c.assertExchange(spec.name, spec.type, { durable: spec.durable }),
        );
        checks.push(pass('rabbitmq', name, `${spec.type}, durable`));
      } catch (error) {
        checks.push(
          fail(
            'rabbitmq',
            name,
            `not a durable ${spec.type} exchange: ${errorMessage(error)}`,
            'Compare with deploy/rabbitmq/definitions.json and re-create it.',
          ),
        );
      }
    }
    const reasons = await workerDeadLetterReasons(settings.analyticsUrl);
    for (const spec of TASKIT_TOPOLOGY.queues) {
      const result = await checkQueueSpec(connection, spec);
      if (result.figures) {
        if (api)
          result.figures.unacked = await api.unacked(vhost, spec.name).catch(() => undefined);
        queues.set(spec.name, result.figures);
      }
      checks.push(queueCheck(spec, result, vhost, reasons));
    }
    checks.push(await bindingsCheck(settings, api));
  } finally {
    await connection.close().catch(() => undefined);
  }
  return { reachable: true, queues, checks };
}
