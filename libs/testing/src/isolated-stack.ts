import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { mongo } from 'mongoose';
import { createClient } from 'redis';
import { influxQuery } from './influx.ts';

const execFileAsync = promisify(execFile);

/** Where the shared servers listen (set by `npm test`, or the local stack's ports for the benchmark). */
export interface SharedServers {
  mongodbUrl: string;
  redisUrl: string;
  rabbitmqUrl: string;
  influxUrl: string;
}

/**
 * One test file's or benchmark part's private slice of the real services: its own MongoDB
 * database, Redis key prefix, RabbitMQ virtual host and InfluxDB database, so that runs never
 * disturb each other or a running `npm run up` stack. `cleanup()` removes all of it.
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

/** `owner` names who made it (`test`, `bench`): it is part of every name. */
export async function createIsolatedStack(
  label: string,
  servers: SharedServers,
  owner: string,
): Promise<IsolatedStack> {
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const vhost = `taskit-${owner}-${id}`;
  const influxDatabase = `taskit_${owner}_${id}`;

  await rabbitmqctl('add_vhost', vhost);
  await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
  await influxQuery(servers.influxUrl, `CREATE DATABASE "${influxDatabase}"`);

  const amqp = new URL(servers.rabbitmqUrl);
  amqp.pathname = `/${encodeURIComponent(vhost)}`;
  const mongodbUri = `${servers.mongodbUrl}/taskit_${owner}_${id}`;
  const redisPrefix = `taskit-${owner}:${id}:`;
  let cleaned = false;

  return {
    id,
    mongodbUri,
    redisUrl: servers.redisUrl,
    redisPrefix,
    rabbitmqUrl: amqp.toString(),
    vhost,
    influxUrl: servers.influxUrl,
    influxDatabase,
    influxBucket: `${influxDatabase}/autogen`,
    /** Removes every part it can, then reports all that failed. */
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
        const redis = createClient({ url: servers.redisUrl });
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
        influxQuery(servers.influxUrl, `DROP DATABASE "${influxDatabase}"`),
      );
      if (problems.length > 0) throw new Error(`cleanup of ${id}: ${problems.join('; ')}`);
    },
  };
}
