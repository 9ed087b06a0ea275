import type { Check } from './check';
import { checkHealth } from './health-check';
import { checkInflux } from './influx-check';
import { checkOutbox } from './outbox-check';
import { runProbe } from './probe';
import { checkRabbitMq } from './rabbitmq-check';
import { checkEnvironment } from './settings-check';
import type { DoctorSettings } from './settings';
import { checkTelegrafConfig } from './telegraf-config';

export interface DoctorOptions {
  probe: boolean;
  probeTimeoutMs: number;
}

/** Walks an event's path hop by hop; reads only, except the probe event. */
export async function runDoctor(
  settings: DoctorSettings,
  options: DoctorOptions,
): Promise<Check[]> {
  const checks: Check[] = [checkEnvironment(settings), checkTelegrafConfig(settings)];
  const [gateway, analytics, outbox, rabbit] = await Promise.all([
    checkHealth('gateway', settings.gatewayUrl),
    checkHealth('analytics', settings.analyticsUrl),
    checkOutbox(settings),
    checkRabbitMq(settings),
  ]);
  checks.push(gateway, analytics, outbox, ...rabbit.checks);
  const influx = await checkInflux(settings, rabbit.queues);
  checks.push(...influx);
  if (options.probe) {
    const influxUsable =
      settings.influxUrl !== 'none' && influx.every((c) => c.ok || c.name === 'worker vs Telegraf');
    if (!rabbit.reachable || !influxUsable) {
      checks.push({
        hop: 'probe',
        name: 'probe',
        ok: false,
        detail: 'not sent: RabbitMQ or InfluxDB is unusable or skipped',
        hint: 'Fix the checks above first.',
      });
    } else {
      checks.push(...(await runProbe(settings, options.probeTimeoutMs)));
    }
  }
  return checks;
}
