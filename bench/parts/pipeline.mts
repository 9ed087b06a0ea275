/**
 * The `pipeline` part (docs/api.md, Benchmark results): a backlog of contract events published with both
 * consumers stopped, then Telegraf and the analytics worker each drain their queue alone into
 * the same InfluxDB database, and every event id is checked in InfluxDB.
 */
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE as WORKER_QUEUE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  TELEGRAF_EVENTS_DLQ,
  TELEGRAF_EVENTS_QUEUE as TELEGRAF_QUEUE,
} from '../../libs/contracts/src/index.ts';
import { INGEST_DEFAULTS } from '../../libs/config/src/setting-defaults.ts';
import { influxScalar } from '../../libs/testing/src/influx.ts';
import type { IsolatedStack } from '../../libs/testing/src/isolated-stack.ts';
import type { RunningProcess } from '../../libs/testing/src/running-process.ts';
import {
  declareTopology,
  publishBacklog,
  QueueWatcher,
  verifySource,
  type SourceVerification,
} from '../lib/pipeline.mts';
import { createBenchStack, startAnalytics, startTelegraf } from '../lib/services.mts';
import { CONFIG, progress } from '../lib/settings.mts';
import { nowMs, round, sleep } from '../lib/stats.mts';

interface DrainResult {
  eps: number;
  eps_from_consumer_start: number;
  seconds_from_first_consumption: number;
  seconds_from_start: number;
  startup_s: number;
  points: number;
}

async function drain(
  name: 'worker' | 'telegraf',
  stack: IsolatedStack,
  queue: string,
  expected: number,
  start: () => Promise<RunningProcess>,
): Promise<DrainResult> {
  const watcher = await QueueWatcher.open(stack.rabbitmqUrl);
  try {
    const spawnedAt = nowMs();
    const consumer = await start();
    let firstConsumedAt: number | undefined;
    let points = 0;
    let lastInflux = 0;
    let lastReport = nowMs();
    const deadline = nowMs() + CONFIG.pipeline.drainTimeoutS * 1000;
    for (;;) {
      if (!consumer.isRunning)
        throw new Error(`${name} exited while draining:\n${consumer.output}`);
      if (firstConsumedAt === undefined && (await watcher.ready(queue)) < expected) {
        firstConsumedAt = nowMs();
      }
      if (nowMs() - lastInflux >= 100) {
        lastInflux = nowMs();
        points = await influxScalar(
          stack.influxUrl,
          stack.influxDatabase,
          `SELECT count("${TaskEventFields.count}") FROM "${TASK_EVENTS_MEASUREMENT}" WHERE "${TaskEventTags.source}" = '${name}'`,
        );
        if (points >= expected) break;
      }
      if (nowMs() - lastReport > 5_000) {
        lastReport = nowMs();
        progress(`  ${name}: ${points}/${expected} points in InfluxDB`);
      }
      if (nowMs() > deadline) throw new Error(`${name} did not drain ${expected} events in time`);
      await sleep(firstConsumedAt === undefined ? 20 : 50);
    }
    const doneAt = nowMs();
    await consumer.stop('SIGTERM', 15_000);
    const first = firstConsumedAt ?? spawnedAt;
    const result = {
      eps: round(expected / ((doneAt - first) / 1000)),
      eps_from_consumer_start: round(expected / ((doneAt - spawnedAt) / 1000)),
      seconds_from_first_consumption: round((doneAt - first) / 1000, 2),
      seconds_from_start: round((doneAt - spawnedAt) / 1000, 2),
      startup_s: round((first - spawnedAt) / 1000, 2),
      points,
    };
    progress(
      `  ${name}: ${expected} events in ${result.seconds_from_first_consumption} s from first consumption ` +
        `(${result.eps} events/s; ${result.seconds_from_start} s from process start)`,
    );
    return result;
  } finally {
    await watcher.dispose();
  }
}

export async function pipelinePart(telegrafBinary: string) {
  const c = CONFIG.pipeline;
  const stack = await createBenchStack('pipeline');
  progress(
    `pipeline: isolated vhost ${stack.vhost}; declaring the topology (libs/messaging declareTopology)`,
  );
  await declareTopology(stack.rabbitmqUrl);
  progress(`pipeline: publishing ${c.events} events with both consumers stopped`);
  const publishStarted = nowMs();
  let lastShown = 0;
  const published = await publishBacklog(stack.rabbitmqUrl, c.events, c.users, (sent) => {
    if (sent - lastShown >= 10_000) {
      lastShown = sent;
      progress(`  published ${sent}`);
    }
  });
  const publishS = (nowMs() - publishStarted) / 1000;
  const watcher = await QueueWatcher.open(stack.rabbitmqUrl);
  const backlog = {
    worker: await watcher.ready(WORKER_QUEUE),
    telegraf: await watcher.ready(TELEGRAF_QUEUE),
  };
  await watcher.dispose();
  if (backlog.worker !== c.events || backlog.telegraf !== c.events) {
    throw new Error(`backlog is ${JSON.stringify(backlog)}, expected ${c.events} in each queue`);
  }
  progress(
    `pipeline: backlog ready (${c.events} in each queue, published in ${round(publishS)} s)`,
  );

  progress(`pipeline: Telegraf drains ${TELEGRAF_QUEUE} alone`);
  const telegraf = await drain('telegraf', stack, TELEGRAF_QUEUE, c.events, () =>
    Promise.resolve(startTelegraf(stack, telegrafBinary)),
  );
  progress(`pipeline: the analytics worker drains ${WORKER_QUEUE} alone`);
  const worker = await drain('worker', stack, WORKER_QUEUE, c.events, () => startAnalytics(stack));

  await sleep(1_000); // anything late (a redelivery) would land now
  progress('pipeline: verifying both sources in InfluxDB (every event id)');
  const verified: Record<'worker' | 'telegraf', SourceVerification> = {
    worker: await verifySource(stack.influxUrl, stack.influxDatabase, 'worker', published),
    telegraf: await verifySource(stack.influxUrl, stack.influxDatabase, 'telegraf', published),
  };
  const after = await QueueWatcher.open(stack.rabbitmqUrl);
  const leftover = {
    [WORKER_QUEUE]: await after.ready(WORKER_QUEUE),
    [TELEGRAF_QUEUE]: await after.ready(TELEGRAF_QUEUE),
    [ANALYTICS_EVENTS_DLQ]: await after.ready(ANALYTICS_EVENTS_DLQ),
    [TELEGRAF_EVENTS_DLQ]: await after.ready(TELEGRAF_EVENTS_DLQ),
  };
  await after.dispose();
  await stack.cleanup();
  return {
    events: c.events,
    worker_eps: worker.eps,
    telegraf_eps: telegraf.eps,
    ratio: round(worker.eps / telegraf.eps, 3),
    lost: verified.worker.lost + verified.telegraf.lost,
    duplicates: verified.worker.duplicates + verified.telegraf.duplicates,
    measured_from:
      'first consumption (queue ready count below the backlog) to the last point queryable in InfluxDB',
    worker_eps_from_process_start: worker.eps_from_consumer_start,
    telegraf_eps_from_process_start: telegraf.eps_from_consumer_start,
    worker,
    telegraf,
    verification: verified,
    queues_after: leftover,
    publish_eps: round(c.events / publishS),
    worker_settings: Object.fromEntries(
      Object.entries(INGEST_DEFAULTS).map(([key, fallback]) => [
        key,
        Number(process.env[key] ?? fallback),
      ]),
    ),
    order: 'telegraf first, then the worker, into the same InfluxDB database',
  };
}
