import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ANALYTICS_EVENTS_DLQ,
  ANALYTICS_EVENTS_QUEUE,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import { registeredClient, type ApiClient } from '../support/api-client';
import { doctorEnvironment, runDoctor, type DoctorRun } from '../support/doctor';
import { eventually } from '../support/eventually';
import type { IsolatedStack } from '../support/isolated-stack';
import { publishRaw } from '../support/pipeline';
import { createPrivateStack, PrivateInfluxDb } from '../support/private-servers';
import { startService, startTelegraf, type RunningProcess } from '../support/processes';
import { REPO_ROOT } from '../support/test-environment';

/** Events written while the analytics service has a wrong INFLUX_BUCKET (never acked). */
const WRONG_BUCKET_EVENTS = 2;

async function createTasks(api: ApiClient, n: number, label: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const response = await api.post('/api/tasks', { title: `${label} ${i}` });
    if (response.status !== 201) throw new Error(`create: ${response.status} ${response.text}`);
  }
}

/** The report until `assertion` holds on it (events take a moment to travel). */
async function doctorUntil(
  env: Record<string, string>,
  assertion: (run: DoctorRun) => void,
  timeoutMs = 30_000,
  ...args: string[]
): Promise<DoctorRun> {
  let last: DoctorRun | undefined;
  await eventually(
    async () => {
      last = await runDoctor(env, ...args);
      assertion(last);
    },
    timeoutMs,
    500,
  );
  return last as DoctorRun;
}

/**
 * One isolated stack (its own vhost on the shared broker, database, and a private InfluxDB
 * that this file may stop), broken hop by hop in order; each case leaves the next its stack.
 */
describe('npm run doctor on a real stack', () => {
  let influx: PrivateInfluxDb;
  let stack: IsolatedStack;
  let gateway: RunningProcess;
  let analytics: RunningProcess;
  let telegraf: RunningProcess;
  let api: ApiClient;
  let env: Record<string, string>;
  const scratch = mkdtempSync(join(tmpdir(), 'taskit-doctor-'));

  beforeAll(async () => {
    influx = await PrivateInfluxDb.start('doctor');
    stack = await createPrivateStack('doctor', { influxdb: influx });
    [gateway, analytics] = await Promise.all([
      startService('gateway', stack),
      startService('analytics', stack),
    ]);
    telegraf = startTelegraf(stack);
    api = await registeredClient(gateway.url, 'doctor');
    env = doctorEnvironment(stack, { gateway: gateway.url, analytics: analytics.url });
  }, 120_000);

  afterAll(async () => {
    await telegraf?.stop();
    await analytics?.stop();
    await gateway?.stop();
    await stack?.cleanup();
    await influx?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes every hop of a healthy stack, and --probe sees both paths', async () => {
    await createTasks(api, 3, 'healthy');
    const run = await doctorUntil(
      env,
      (r) => {
        expect(r.failed()).toEqual([]);
        expect(r.check('worker vs Telegraf').detail).toContain('worker 3, telegraf 3');
      },
      30_000,
      '--probe',
    );
    expect(run.code).toBe(0);
    expect(run.ok).toBe(true);
    expect(run.check('bindings').detail).toContain('4 of 4 present');
    expect(run.check(`queue ${TELEGRAF_EVENTS_QUEUE}`).detail).toMatch(/^1 consumer,/);
    expect(run.check('worker path').detail).toMatch(/point written after \d+\.\d+ s/);
    expect(run.check('telegraf path').detail).toMatch(/point written after \d+\.\d+ s/);
    // The probe's points are tagged: they count in neither source's figures.
    const after = await runDoctor(env);
    expect(after.check('worker vs Telegraf').detail).toContain('worker 3, telegraf 3');
  }, 60_000);

  it('names Telegraf when it is stopped', async () => {
    await telegraf.stop();
    await createTasks(api, 2, 'no telegraf');
    const run = await doctorUntil(env, (r) =>
      expect(r.check(`queue ${TELEGRAF_EVENTS_QUEUE}`).detail).toBe('0 consumers, 2 ready'),
    );
    expect(run.code).toBe(1);
    expect(run.failed()).toEqual([`queue ${TELEGRAF_EVENTS_QUEUE}`]);
    expect(run.check(`queue ${TELEGRAF_EVENTS_QUEUE}`).hint).toContain('Telegraf is down');
  }, 60_000);

  it('names the line of a Telegraf config with a misspelled queue', async () => {
    const text = readFileSync(join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf'), 'utf8');
    const typo = text.replace(`:-${TELEGRAF_EVENTS_QUEUE}}`, ':-telegraf.task-evnets}');
    expect(typo).not.toBe(text);
    const line = typo.split('\n').findIndex((l) => l.includes('telegraf.task-evnets')) + 1;
    const config = join(scratch, 'telegraf-typo.conf');
    writeFileSync(config, typo);
    telegraf = startTelegraf(stack, { config, name: 'telegraf (other config)' });
    const run = await runDoctor({ ...env, TELEGRAF_CONFIG: config });
    expect(run.code).toBe(1);
    const check = run.check('Telegraf config telegraf-typo.conf');
    expect(check.ok).toBe(false);
    expect(check.detail).toContain(`line ${line}: queue =`);
    expect(check.detail).toContain('"telegraf.task-evnets"');
    // Telegraf runs, but on no queue of the topology.
    expect(run.check(`queue ${TELEGRAF_EVENTS_QUEUE}`).ok).toBe(false);
    await telegraf.stop();
    telegraf = startTelegraf(stack);
    await doctorUntil(env, (r) => expect(r.failed()).toEqual([]));
  }, 60_000);

  it('names a wrong INFLUX_BUCKET', async () => {
    const run = await runDoctor({ ...env, INFLUX_BUCKET: 'taskit_typo/autogen' });
    expect(run.code).toBe(1);
    expect(run.failed()).toEqual(['bucket']);
    expect(run.check('bucket').detail).toContain('taskit_typo/autogen does not exist');
  }, 60_000);

  it('names the worker path when the analytics service writes to a wrong INFLUX_BUCKET', async () => {
    await analytics.stop();
    analytics = await startService('analytics', stack, { INFLUX_BUCKET: 'taskit_typo/autogen' });
    env = doctorEnvironment(stack, { gateway: gateway.url, analytics: analytics.url });
    await createTasks(api, WRONG_BUCKET_EVENTS, 'wrong bucket');
    const run = await doctorUntil(env, (r) => expect(r.check('worker vs Telegraf').ok).toBe(false));
    expect(run.code).toBe(1);
    const difference = run.check('worker vs Telegraf');
    expect(difference.detail).toContain(`(difference -${WRONG_BUCKET_EVENTS})`);
    expect(difference.detail).toMatch(/\d+ of the worker's InfluxDB writes failed/);
    expect(difference.hint).toContain('The worker path is stuck or writes elsewhere');
    expect(run.check('analytics').ok).toBe(true);
  }, 90_000);

  it('names a poison message in the dead-letter queue, with its reason', async () => {
    await publishRaw(stack.rabbitmqUrl, 'task.created', 'this is not JSON');
    const run = await doctorUntil(env, (r) =>
      expect(r.check(`queue ${ANALYTICS_EVENTS_DLQ}`).detail).toContain('1 dead letter'),
    );
    expect(run.code).toBe(1);
    const dlq = run.check(`queue ${ANALYTICS_EVENTS_DLQ}`);
    expect(dlq.ok).toBe(false);
    expect(dlq.detail).toContain('invalid_json 1');
    expect(dlq.hint).toContain(`purge_queue -p ${stack.vhost} ${ANALYTICS_EVENTS_DLQ}`);
  }, 60_000);

  it('names the worker when it is stopped and its backlog grows', async () => {
    await analytics.stop();
    // The wrong-bucket worker's unacked deliveries are back in the queue, with 2 new ones.
    await createTasks(api, 2, 'no worker');
    const first = await doctorUntil(env, (r) =>
      expect(r.check(`queue ${ANALYTICS_EVENTS_QUEUE}`).detail).toBe(
        `0 consumers, ${WRONG_BUCKET_EVENTS + 2} ready`,
      ),
    );
    expect(first.code).toBe(1);
    expect(first.check('analytics').ok).toBe(false);
    expect(first.check(`queue ${ANALYTICS_EVENTS_QUEUE}`).hint).toContain('analytics worker');
    await createTasks(api, 3, 'no worker');
    await doctorUntil(env, (r) =>
      expect(r.check(`queue ${ANALYTICS_EVENTS_QUEUE}`).detail).toBe(
        `0 consumers, ${WRONG_BUCKET_EVENTS + 5} ready`,
      ),
    );
  }, 60_000);

  it('names InfluxDB when it is stopped', async () => {
    await influx.pause();
    const run = await runDoctor(env, '--probe');
    expect(run.code).toBe(1);
    const reachable = run.check('reachable');
    expect(reachable.hop).toBe('influxdb');
    expect(reachable.ok).toBe(false);
    expect(reachable.hint).toContain('InfluxDB is down');
    expect(run.check('probe').detail).toContain('not sent');
  }, 60_000);
});
