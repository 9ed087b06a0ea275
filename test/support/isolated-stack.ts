import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { testServices } from './test-environment';

const execFileAsync = promisify(execFile);

/**
 * One test file's private slice of the real services: its own MongoDB database, Redis key
 * prefix, RabbitMQ virtual host and InfluxDB database, so that runs never disturb each
 * other or a running `npm run up` stack. `cleanup()` removes all of it.
 */
export interface IsolatedStack {
  id: string;
  mongodbUri: string;
  redisUrl: string;
  redisPrefix: string;
  rabbitmqUrl: string;
  vhost: string;
  influxUrl: string;
  influxDatabase: string;
  /** The bucket as InfluxDB 1.8's 2.x API names it: database/retention policy. */
  influxBucket: string;
  cleanup(): Promise<void>;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await execFileAsync('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
}

export async function influxQuery(influxUrl: string, q: string): Promise<unknown> {
  const response = await fetch(`${influxUrl}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q }),
  });
  if (!response.ok) throw new Error(`InfluxDB ${q}: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function createIsolatedStack(label: string): Promise<IsolatedStack> {
  const services = testServices();
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const vhost = `taskit-test-${id}`;
  const influxDatabase = `taskit_test_${id}`;

  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  await influxQuery(services.influxUrl, `CREATE DATABASE "${influxDatabase}"`);

  const amqp = new URL(services.rabbitmqUrl);
  amqp.pathname = `/${encodeURIComponent(vhost)}`;
  const mongodbUri = `${services.mongodbUrl}/taskit_test_${id}`;
  const redisPrefix = `taskit-test:${id}:`;

  return {
    id,
    mongodbUri,
    redisUrl: services.redisUrl,
    redisPrefix,
    rabbitmqUrl: amqp.toString(),
    vhost,
    influxUrl: services.influxUrl,
    influxDatabase,
    influxBucket: `${influxDatabase}/autogen`,
    async cleanup() {
      const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.connect();
        await client.db().dropDatabase();
      } finally {
        await client.close();
      }
      const redis = createClient({ url: services.redisUrl });
      await redis.connect();
      try {
        for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await redis.del(keys);
        }
      } finally {
        await redis.close();
      }
      await rabbitmqctl('delete_vhost', vhost);
      await influxQuery(services.influxUrl, `DROP DATABASE "${influxDatabase}"`);
    },
  };
}
