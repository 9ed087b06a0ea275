import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  TASK_EVENTS_BINDING,
  TASK_EVENTS_EXCHANGE,
  TASK_EVENTS_MEASUREMENT,
  TaskEventTags,
  TELEGRAF_EVENTS_QUEUE,
} from '@taskit/contracts';
import { fail, pass, type Check } from './check';
import { vhostOf, type DoctorSettings } from './settings';

/** One `key = value` line of a TOML section, with its line number. */
interface Setting {
  section: string;
  key: string;
  raw: string;
  line: number;
}

/** Telegraf's `${VAR}` and `${VAR:-default}` substitution. */
export function substitute(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def) => {
    const found = env[name];
    return found === undefined || found === '' ? ((def as string | undefined) ?? '') : found;
  });
}

/** A line-based reading of the few settings the doctor compares (not a full TOML parser). */
export function parseTelegrafConfig(text: string): Setting[] {
  const settings: Setting[] = [];
  let section = '';
  text.split('\n').forEach((content, index) => {
    const line = content.replace(/(^|\s)#.*$/, '').trim();
    const header = /^\[\[?([^\]]+)\]\]?$/.exec(line);
    if (header) {
      section = header[1].trim();
      return;
    }
    const pair = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(line);
    if (pair) settings.push({ section, key: pair[1], raw: pair[2].trim(), line: index + 1 });
  });
  return settings;
}

/** The strings of a TOML value: `"a"` or `["a", "b"]`. */
function strings(raw: string): string[] {
  return [...raw.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]);
}

/**
 * Compares Telegraf's config with the topology and the services' settings: the classic typo
 * (another queue, exchange, bucket or vhost than the services use) is named by its line.
 */
export function checkTelegrafConfig(settings: DoctorSettings): Check {
  const file = settings.telegrafConfig;
  const name = `Telegraf config ${basename(file)}`;
  if (!existsSync(file)) {
    return settings.env.TELEGRAF_CONFIG
      ? fail(
          'settings',
          name,
          `${file} does not exist`,
          'Point TELEGRAF_CONFIG at the config Telegraf runs with.',
        )
      : pass('settings', name, `not found at ${file}; set TELEGRAF_CONFIG=<path> to check it`);
  }
  // Telegraf is given the same settings as the services (npm run up, the k8s ConfigMaps).
  const env = {
    RABBITMQ_URL: settings.rabbitmqUrl,
    INFLUX_URL: settings.influxUrl,
    INFLUX_ORG: settings.influxOrg,
    INFLUX_BUCKET: settings.influxBucket,
    ...settings.env,
  };
  const all = parseTelegrafConfig(readFileSync(file, 'utf8'));
  const find = (section: string, key: string) =>
    all.find((s) => s.section === section && s.key === key);
  const problems: string[] = [];
  const expect = (
    setting: Setting | undefined,
    what: string,
    allowed: string[],
    resolved?: string,
  ) => {
    if (!setting) {
      problems.push(`no ${what} setting`);
      return;
    }
    const values =
      resolved !== undefined ? [resolved] : strings(setting.raw).map((v) => substitute(v, env));
    const wrong = values.find((v) => !allowed.includes(v));
    if (wrong !== undefined) {
      problems.push(
        `line ${setting.line}: ${setting.key} = ${setting.raw} gives "${wrong}", the topology's is "${allowed.filter(Boolean).join('" or "')}"`,
      );
    }
  };
  const amqp = 'inputs.amqp_consumer';
  if (!all.some((s) => s.section === amqp)) problems.push('no [[inputs.amqp_consumer]] section');
  expect(find(amqp, 'queue'), 'queue', [TELEGRAF_EVENTS_QUEUE]);
  // "" = consume the declared queue without binding it; else it must be the events exchange.
  expect(
    find(amqp, 'exchange') ?? { section: amqp, key: 'exchange', raw: '""', line: 0 },
    'exchange',
    ['', TASK_EVENTS_EXCHANGE],
  );
  const binding = find(amqp, 'binding_key');
  if (binding) expect(binding, 'binding_key', ['', TASK_EVENTS_BINDING]);
  const brokers = find(amqp, 'brokers');
  const expectedVhost = vhostOf(settings.rabbitmqUrl);
  for (const broker of brokers ? strings(brokers.raw).map((v) => substitute(v, env)) : []) {
    let vhost: string;
    try {
      vhost = vhostOf(broker);
    } catch {
      problems.push(`line ${brokers?.line}: brokers = ${brokers?.raw} is not an AMQP URL`);
      continue;
    }
    if (vhost !== expectedVhost) {
      problems.push(
        `line ${brokers?.line}: brokers name vhost "${vhost}", the services use "${expectedVhost}"`,
      );
    }
  }
  expect(find(`${amqp}.json_v2`, 'measurement_name'), 'measurement_name', [
    TASK_EVENTS_MEASUREMENT,
  ]);
  expect(find(`${amqp}.tags`, TaskEventTags.source), 'source tag', ['telegraf']);
  const v2 = find('outputs.influxdb_v2', 'bucket');
  const v1 = find('outputs.influxdb', 'database');
  if (v2) expect(v2, 'bucket', [settings.influxBucket]);
  else if (v1) expect(v1, 'database', [settings.influxBucket.split('/')[0]]);
  else problems.push('no [[outputs.influxdb_v2]] bucket');
  if (problems.length > 0) {
    return fail(
      'settings',
      name,
      `${file}: ${problems.join('; ')}`,
      `Telegraf reads another queue/exchange/bucket than the services: fix ${problems.length > 1 ? 'those lines' : 'that line'} and restart Telegraf (npm run down && npm run up; on Kubernetes: kubectl -n taskit rollout restart deploy/telegraf).`,
    );
  }
  const queue = substitute(strings(find(amqp, 'queue')?.raw ?? '')[0] ?? '', env);
  return pass(
    'settings',
    name,
    `queue ${queue}, vhost ${expectedVhost}, bucket ${settings.influxBucket}`,
  );
}
