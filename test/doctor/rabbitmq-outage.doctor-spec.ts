import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { registeredClient } from '../support/api-client';
import { doctorEnvironment, runDoctor } from '../support/doctor';
import type { IsolatedStack } from '../support/isolated-stack';
import { createPrivateStack, PrivateRabbitMq } from '../support/private-servers';
import { startService, type RunningProcess } from '../support/processes';
import { REPO_ROOT } from '../support/test-environment';

it('exits 2 when it cannot run (an unknown argument)', async () => {
  const entry = join(REPO_ROOT, 'dist', 'apps', 'doctor', 'src', 'main.js');
  const code = await new Promise<number>((resolve) =>
    execFile(process.execPath, [entry, '--jsn'], (error) =>
      resolve(error ? Number((error as { code?: unknown }).code) : 0),
    ),
  );
  expect(code).toBe(2);
});

describe('npm run doctor while RabbitMQ is down', () => {
  let rabbitmq: PrivateRabbitMq;
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    rabbitmq = await PrivateRabbitMq.start('doctor');
    stack = await createPrivateStack('doctorrmq', { rabbitmq });
    gateway = await startService('gateway', stack);
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
    await rabbitmq?.stop();
  });

  it('names the broker and the outbox that grows behind it', async () => {
    const api = await registeredClient(gateway.url, 'doctor-rmq');
    await rabbitmq.stopApp();
    for (let i = 0; i < 3; i++) {
      const response = await api.post('/api/tasks', { title: `while down ${i}` });
      expect(response.status).toBe(201);
    }
    // Older than DOCTOR_OUTBOX_MAX_AGE_SECONDS, and past one background measurement of the
    // gateway's backlog gauge (every 5 s, outbox-metrics.ts), which the doctor reads.
    await new Promise((resolve) => setTimeout(resolve, 6_500));
    const env = doctorEnvironment(
      stack,
      { gateway: gateway.url },
      { DOCTOR_OUTBOX_MAX_AGE_SECONDS: '1' },
    );
    const run = await runDoctor(env);
    expect(run.code).toBe(1);
    const connection = run.check('connection');
    expect(connection.hop).toBe('rabbitmq');
    expect(connection.ok).toBe(false);
    expect(connection.hint).toContain('RabbitMQ is down');
    const outbox = run.check('outbox');
    expect(outbox.ok).toBe(false);
    expect(outbox.detail).toMatch(/^3 pending, oldest \d+\.\d s/);
    expect(run.check('gateway').detail).toContain('rabbitmq');
  }, 90_000);
});
