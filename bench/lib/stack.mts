import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { SERVICE_URLS } from '../../tools/stack/services.mts';
import { influxQuery } from './influx.mts';

const execFileAsync = promisify(execFile);

/**
 * One benchmark part's private slice of the shared servers, as the tests make them
 * (test/support/isolated-stack.ts): its own MongoDB database, Redis key prefix, RabbitMQ
 * virtual host and InfluxDB database, all removed by `cleanup()`. A running `npm run up`
 * stack is never touched.
 */
export interface BenchStack {
  id: string;
  mongodbUri: string;
  redisUrl: string;
  redisPrefix: string;
  rabbitmqUrl: string;
  vhost: string;
  influxUrl: string;
  influxDatabase: string;
  influxBucket: string;
  cleanup(): Promise<void>;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  await execFileAsync('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
}

export async function createBenchStack(label: string): Promise<BenchStack> {
  const id = `${label}_${randomBytes(4).toString('hex')}`;
  const vhost = `taskit-bench-${id}`;
  const influxDatabase = `taskit_bench_${id}`;
  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  await influxQuery(SERVICE_URLS.influxdb, `CREATE DATABASE "${influxDatabase}"`);
  const amqp = new URL(SERVICE_URLS.rabbitmq);
  amqp.pathname = `/${encodeURIComponent(vhost)}`;
  const mongodbUri = `${SERVICE_URLS.mongodb}/taskit_bench_${id}`;
  const redisPrefix = `taskit-bench:${id}:`;
  let cleaned = false;
  return {
    id,
    mongodbUri,
    redisUrl: SERVICE_URLS.redis,
    redisPrefix,
    rabbitmqUrl: amqp.toString(),
    vhost,
    influxUrl: SERVICE_URLS.influxdb,
    influxDatabase,
    influxBucket: `${influxDatabase}/autogen`,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      const problems: string[] = [];
      const attempt = async (what: string, work: () => Promise<unknown>) => {
        try {
          await work();
        } catch (error) {
          problems.push(`${what}: ${(error as Error).message}`);
        }
      };
      await attempt('mongodb', async () => {
        const client = new mongo.MongoClient(mongodbUri, { serverSelectionTimeoutMS: 5_000 });
        try {
          await client.connect();
          await client.db().dropDatabase();
        } finally {
          await client.close();
        }
      });
      await attempt('redis', async () => {
        const redis = createClient({ url: SERVICE_URLS.redis });
        await redis.connect();
        try {
          for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*`, COUNT: 1000 })) {
            if (keys.length > 0) await redis.del(keys);
          }
        } finally {
          await redis.close();
        }
      });
      await attempt('rabbitmq', () => rabbitmqctl('delete_vhost', vhost));
      await attempt('influxdb', () =>
        influxQuery(SERVICE_URLS.influxdb, `DROP DATABASE "${influxDatabase}"`),
      );
      if (problems.length > 0) throw new Error(`cleanup of ${id}: ${problems.join('; ')}`);
    },
  };
}
