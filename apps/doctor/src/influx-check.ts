import {
  ANALYTICS_EVENTS_QUEUE,
  EVENT_SOURCES,
  TASK_EVENTS_MEASUREMENT,
  TaskEventFields,
  TaskEventTags,
  TELEGRAF_EVENTS_QUEUE,
  type EventSource,
} from '@taskit/contracts';
import { errorMessage, fail, fetchWithin, pass, type Check } from './check';
import { identifier, influxql, InfluxQlError } from '@taskit/influx';
import { influxRows } from './influx';
import { labelOf, scrape } from './metrics-text';
import type { QueueFigures } from './rabbitmq-check';
import type { DoctorSettings } from './settings';

const RESAMPLE_MS = 2_000;

const QUEUE_OF: Record<EventSource, string> = {
  worker: ANALYTICS_EVENTS_QUEUE,
  telegraf: TELEGRAF_EVENTS_QUEUE,
};

/** Failed batch writes (retried) of the worker since its start, from its `/metrics`. */
async function workerWriteFailures(analyticsUrl: string | undefined): Promise<number> {
  return (await scrape(analyticsUrl))
    .filter(
      (s) =>
        s.name === 'taskit_worker_influx_write_duration_seconds_count' &&
        labelOf(s.labels, 'outcome') !== 'ok',
    )
    .reduce((sum, s) => sum + s.value, 0);
}

/** Points per source in the last hour, probe points left out. */
export async function pointsPerSource(
  settings: DoctorSettings,
): Promise<Record<EventSource, number>> {
  const rows = await influxRows(
    settings,
    influxql`SELECT count(${identifier(TaskEventFields.count)}) FROM ${identifier(TASK_EVENTS_MEASUREMENT)} WHERE ${identifier(TaskEventTags.probe)} = ${''} AND time > now() - 1h GROUP BY ${identifier(TaskEventTags.source)}`,
  );
  const counts: Record<EventSource, number> = { worker: 0, telegraf: 0 };
  for (const row of rows) {
    const source = row[TaskEventTags.source] as EventSource;
    if (EVENT_SOURCES.includes(source)) counts[source] = Number(row.count);
  }
  return counts;
}

/**
 * InfluxDB reachable, the bucket there, points per source in the last hour, and the worker vs
 * Telegraf difference: a difference larger than the lagging path's queue explains means that
 * path drops or misroutes events.
 */
export async function checkInflux(
  settings: DoctorSettings,
  queues: Map<string, QueueFigures>,
): Promise<Check[]> {
  if (settings.influxUrl === 'none') {
    return [pass('influxdb', 'reachable', 'skipped (INFLUX_URL=none)')];
  }
  try {
    const ping = await fetchWithin(`${settings.influxUrl}/ping`, 3_000);
    if (ping.status >= 300) throw new Error(`/ping answered ${ping.status}`);
  } catch (error) {
    return [
      fail(
        'influxdb',
        'reachable',
        `${settings.influxUrl}: ${errorMessage(error)}`,
        'InfluxDB is down: both paths hold their events unacked and resume when it is back. Next: npm run services (local), or kubectl -n taskit get pods -l app=influxdb.',
      ),
    ];
  }
  const checks = [pass('influxdb', 'reachable', settings.influxUrl)];
  let counts: Record<EventSource, number>;
  try {
    counts = await pointsPerSource(settings);
  } catch (error) {
    if (error instanceof InfluxQlError && error.isMissingDatabase) {
      checks.push(
        fail(
          'influxdb',
          'bucket',
          `${settings.influxBucket} does not exist (${error.message})`,
          'INFLUX_BUCKET names a bucket that is not there: give the services, Telegraf and the doctor the same INFLUX_BUCKET (local: taskit/autogen), or create it.',
        ),
      );
    } else {
      checks.push(
        fail(
          'influxdb',
          'bucket',
          `query failed: ${errorMessage(error)}`,
          'Check INFLUX_TOKEN, and that INFLUX_BUCKET has a database mapping for InfluxQL (InfluxDB 2.x: influx v1 dbrp list).',
        ),
      );
    }
    return checks;
  }
  checks.push(pass('influxdb', 'bucket', `${settings.influxBucket} exists`));
  const difference = counts.worker - counts.telegraf;
  const detail = `last hour: worker ${counts.worker}, telegraf ${counts.telegraf} (difference ${difference})`;
  if (difference === 0) {
    checks.push(pass('influxdb', 'worker vs Telegraf', detail));
    return checks;
  }
  const lagging: EventSource = difference > 0 ? 'telegraf' : 'worker';
  const backlog = queues.get(QUEUE_OF[lagging]);
  const waiting = (backlog?.ready ?? 0) + (backlog?.unacked ?? 0);
  if (backlog && waiting >= Math.abs(difference)) {
    checks.push(
      pass(
        'influxdb',
        'worker vs Telegraf',
        `${detail}; explained by the ${waiting} waiting in ${QUEUE_OF[lagging]}${backlog.consumers === 0 ? ' (no consumer: see above)' : ''}`,
      ),
    );
    return checks;
  }
  // In-flight (unacked) deliveries are not counted without the management API: a second
  // sample tells a path that is catching up from one that is stuck.
  await new Promise((resolve) => setTimeout(resolve, RESAMPLE_MS));
  const again = await pointsPerSource(settings).catch(() => counts);
  if (
    again[lagging] > counts[lagging] &&
    Math.abs(again.worker - again.telegraf) < Math.abs(difference)
  ) {
    checks.push(
      pass(
        'influxdb',
        'worker vs Telegraf',
        `${detail}; ${lagging} wrote ${again[lagging] - counts[lagging]} more within ${RESAMPLE_MS / 1000} s: catching up`,
      ),
    );
  } else {
    const failing = lagging === 'worker' ? await workerWriteFailures(settings.analyticsUrl) : 0;
    checks.push(
      fail(
        'influxdb',
        'worker vs Telegraf',
        `${detail}, more than ${QUEUE_OF[lagging]} holds (${waiting}) and not shrinking` +
          (failing > 0 ? `; ${failing} of the worker's InfluxDB writes failed` : ''),
        `The ${lagging} path is stuck or writes elsewhere: check that it writes to bucket ${settings.influxBucket} (its INFLUX_BUCKET), its dead-letter queue above and its log (.run/logs/${lagging === 'worker' ? 'analytics' : 'telegraf'}.log).`,
      ),
    );
  }
  return checks;
}
