import { resolve } from 'node:path';
import { resolveSecretFiles } from '@taskit/config/secret-files';

/**
 * What the doctor checks against: the services' own variables (docs/configuration.md), with the
 * defaults of the `npm run up` stack, plus where the gateway, analytics and Telegraf's config
 * are. `none` as GATEWAY_URL, ANALYTICS_URL or INFLUX_URL skips that hop (inside a pod whose
 * network policies do not reach it).
 */
export interface DoctorSettings {
  mongodbUri: string;
  rabbitmqUrl: string;
  /** RabbitMQ's management API (optional plugin), derived from RABBITMQ_URL by default. */
  rabbitmqManagementUrl: string;
  influxUrl: string;
  influxToken: string;
  influxOrg: string;
  influxBucket: string;
  gatewayUrl?: string;
  analyticsUrl?: string;
  telegrafConfig: string;
  /** Older than this (DOCTOR_OUTBOX_MAX_AGE_SECONDS), a pending event means the relay is stuck. */
  outboxMaxAgeSeconds: number;
  /** Environment that `${VAR}` references in Telegraf's config resolve against. */
  env: Record<string, string | undefined>;
}

/** The local stack's InfluxDB 1.8 names a bucket database/retention-policy. */
const LOCAL_DEFAULTS = {
  MONGODB_URI: 'mongodb://127.0.0.1:27017/taskit',
  RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
  INFLUX_URL: 'http://127.0.0.1:8086',
  INFLUX_ORG: '-',
  INFLUX_BUCKET: 'taskit/autogen',
  GATEWAY_URL: 'http://127.0.0.1:3000',
  ANALYTICS_URL: 'http://127.0.0.1:3001',
};

function managementUrlFor(rabbitmqUrl: string): string {
  try {
    const amqp = new URL(rabbitmqUrl);
    const scheme = amqp.protocol === 'amqps:' ? 'https' : 'http';
    const port = amqp.protocol === 'amqps:' ? 15671 : 15672;
    return `${scheme}://${amqp.username || 'guest'}:${amqp.password || 'guest'}@${amqp.hostname}:${port}`;
  } catch {
    return '';
  }
}

function optionalUrl(value: string | undefined, fallback: string): string | undefined {
  const chosen = value === undefined || value === '' ? fallback : value;
  return chosen === 'none' ? undefined : chosen.replace(/\/+$/, '');
}

/**
 * Inside a pod the doctor runs with that pod's environment, where the credentials are files
 * (`<NAME>_FILE`, docs/configuration.md); an unreadable one stops it with the reason.
 */
export function loadSettings(
  raw: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): DoctorSettings {
  const { values: env, problems } = resolveSecretFiles(
    ['MONGODB_URI', 'RABBITMQ_URL', 'INFLUX_TOKEN'],
    raw,
  );
  if (problems.length > 0) throw new Error(problems.join('; '));
  const get = (name: keyof typeof LOCAL_DEFAULTS) => {
    const value = env[name];
    return value === undefined || value === '' ? LOCAL_DEFAULTS[name] : value;
  };
  const rabbitmqUrl = get('RABBITMQ_URL');
  return {
    mongodbUri: get('MONGODB_URI'),
    rabbitmqUrl,
    rabbitmqManagementUrl: env.RABBITMQ_MANAGEMENT_URL || managementUrlFor(rabbitmqUrl),
    influxUrl: get('INFLUX_URL').replace(/\/+$/, ''),
    influxToken: env.INFLUX_TOKEN ?? '',
    influxOrg: get('INFLUX_ORG'),
    influxBucket: get('INFLUX_BUCKET'),
    gatewayUrl: optionalUrl(env.GATEWAY_URL, LOCAL_DEFAULTS.GATEWAY_URL),
    analyticsUrl: optionalUrl(env.ANALYTICS_URL, LOCAL_DEFAULTS.ANALYTICS_URL),
    telegrafConfig: resolve(cwd, env.TELEGRAF_CONFIG || 'deploy/telegraf/telegraf.conf'),
    outboxMaxAgeSeconds:
      Number(env.DOCTOR_OUTBOX_MAX_AGE_SECONDS) > 0
        ? Number(env.DOCTOR_OUTBOX_MAX_AGE_SECONDS)
        : 30,
    env,
  };
}

/** The virtual host an AMQP URL names ("/" when the path is empty). */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

/** A URL with its password replaced, for printing. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}
