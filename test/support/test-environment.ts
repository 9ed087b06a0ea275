import { resolve } from 'node:path';

/** Addresses of the real services, set by `npm test` (tools/stack/cli.mts test). */
export interface TestServices {
  mongodbUrl: string;
  redisUrl: string;
  rabbitmqUrl: string;
  influxUrl: string;
  telegrafBinary: string;
  /** For the private servers of the fault tests (built by `npm test` even when reused). */
  ferretdbBinary: string;
  influxdBinary: string;
}

export const REPO_ROOT = resolve(__dirname, '..', '..');

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the suites through "npm test" (or "npm run test:e2e"), which ` +
        'starts the backing services and passes their addresses',
    );
  }
  return value;
}

export function testServices(): TestServices {
  return {
    mongodbUrl: required('TASKIT_TEST_MONGODB_URL'),
    redisUrl: required('TASKIT_TEST_REDIS_URL'),
    rabbitmqUrl: required('TASKIT_TEST_RABBITMQ_URL'),
    influxUrl: required('TASKIT_TEST_INFLUX_URL'),
    telegrafBinary: required('TASKIT_TELEGRAF_BIN'),
    ferretdbBinary: required('TASKIT_FERRETDB_BIN'),
    influxdBinary: required('TASKIT_INFLUXD_BIN'),
  };
}
