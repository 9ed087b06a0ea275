import { fail, pass, type Check } from './check';
import { redact, type DoctorSettings } from './settings';

function schemeProblem(name: string, value: string, schemes: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} is not a URL`;
  }
  const scheme = url.protocol.replace(/:$/, '');
  return schemes.includes(scheme)
    ? undefined
    : `${name} must be ${schemes.join('/')}://, not ${scheme}://`;
}

/** Every variable both services and Telegraf need, present and well-formed. */
export function checkEnvironment(settings: DoctorSettings): Check {
  const problems = [
    schemeProblem('MONGODB_URI', settings.mongodbUri, ['mongodb', 'mongodb+srv']),
    schemeProblem('RABBITMQ_URL', settings.rabbitmqUrl, ['amqp', 'amqps']),
    settings.influxUrl === 'none'
      ? undefined
      : schemeProblem('INFLUX_URL', settings.influxUrl, ['http', 'https']),
    settings.gatewayUrl
      ? schemeProblem('GATEWAY_URL', settings.gatewayUrl, ['http', 'https'])
      : undefined,
    settings.analyticsUrl
      ? schemeProblem('ANALYTICS_URL', settings.analyticsUrl, ['http', 'https'])
      : undefined,
  ].filter((p): p is string => p !== undefined);
  if (
    !problems.some((p) => p.startsWith('MONGODB_URI')) &&
    new URL(settings.mongodbUri).pathname.length < 2
  ) {
    problems.push('MONGODB_URI names no database');
  }
  if (!settings.influxBucket.trim()) problems.push('INFLUX_BUCKET is empty');
  if (!settings.influxOrg.trim()) problems.push('INFLUX_ORG is empty');
  if (problems.length > 0) {
    return fail(
      'settings',
      'environment',
      problems.join('; '),
      "Give the doctor the services' settings (see .env.example; on Kubernetes the ConfigMaps in deploy/k8s/base).",
    );
  }
  return pass(
    'settings',
    'environment',
    `RabbitMQ ${redact(settings.rabbitmqUrl)}, MongoDB ${redact(settings.mongodbUri)}, InfluxDB ${settings.influxUrl} bucket ${settings.influxBucket}`,
  );
}
