import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { influxConfig, influxQuery } from '../../libs/testing/src/influx';
import { redisServerArgs } from '../../libs/testing/src/redis';
import { createIsolatedStack, type IsolatedStack } from './isolated-stack';
import { PrivateFerretDb } from './private-ferretdb';
import { freePort, RunningProcess, waitFor } from './processes';
import { isPortOpen } from '../../libs/testing/src/ports';
import { RestartableServer } from './restartable-server';
import { testServices } from './test-environment';

const execFileAsync = promisify(execFile);

/**
 * Private servers for fault tests: a test that stops a server stops its own instance, never
 * the shared ones on 5672/8086 that other suites are using at the same moment.
 */

const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';

/** A RabbitMQ node of its own (own node name, ports, data dir and Erlang cookie). */
export class PrivateRabbitMq {
  private constructor(
    readonly node: string,
    readonly port: number,
    private readonly dir: string,
    private readonly process: RunningProcess,
  ) {}

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  private static environment(dir: string, node: string, port: number, distPort: number) {
    return {
      PATH: process.env.PATH ?? '',
      // rabbitmqctl and the node share this HOME's .erlang.cookie, not the shared node's.
      HOME: dir,
      RABBITMQ_NODENAME: node,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
  }

  static async start(label: string): Promise<PrivateRabbitMq> {
    const id = `${label}-${randomBytes(3).toString('hex')}`;
    const dir = mkdtempSync(join(tmpdir(), `taskit-rabbit-${id}-`));
    const node = `taskit-${id}@localhost`;
    const port = await freePort();
    const distPort = await freePort();
    writeFileSync(join(dir, '.erlang.cookie'), randomBytes(16).toString('hex').toUpperCase());
    chmodSync(join(dir, '.erlang.cookie'), 0o400);
    writeFileSync(
      join(dir, 'rabbitmq.conf'),
      [
        `listeners.tcp.local = 127.0.0.1:${port}`,
        'log.console = false',
        'log.file.level = warning',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    const child = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      env: PrivateRabbitMq.environment(dir, node, port, distPort),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    const running = new RunningProcess(`rabbitmq ${node}`, child, port);
    const broker = new PrivateRabbitMq(node, port, dir, running);
    await broker.waitUntilUp();
    return broker;
  }

  private get env() {
    return PrivateRabbitMq.environment(this.dir, this.node, this.port, 0);
  }

  async ctl(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(
      join(RABBITMQ_BIN, 'rabbitmqctl'),
      ['-q', '-n', this.node, ...args],
      {
        env: this.env,
        timeout: 60_000,
      },
    );
    return stdout;
  }

  async waitUntilUp(): Promise<void> {
    await waitFor(
      `RabbitMQ node ${this.node}`,
      async () => {
        if (!this.process.isRunning) throw new Error(`rabbitmq exited:\n${this.process.output}`);
        await this.ctl('await_startup', '--timeout', '5');
        return true;
      },
      90_000,
      500,
    );
  }

  /** `rabbitmqctl stop_app`: the broker closes every connection and stops listening. */
  async stopApp(): Promise<void> {
    await this.ctl('stop_app');
  }

  async startApp(): Promise<void> {
    await this.ctl('start_app');
    await this.waitUntilUp();
  }

  /** A queue's ready + unacked message count. */
  async queueDepth(queue: string, vhost = '/'): Promise<number> {
    const out = await this.ctl('list_queues', '-p', vhost, 'name', 'messages');
    const line = out.split('\n').find((l) => l.split('\t')[0] === queue);
    return line ? Number(line.split('\t')[1]) : 0;
  }

  async stop(): Promise<void> {
    await this.ctl('stop').catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.process.exited,
      new Promise((resolve) => (timer = setTimeout(resolve, 15_000))),
    ]);
    clearTimeout(timer);
    if (this.process.isRunning) await this.process.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An InfluxDB 1.8 of its own (free ports, own data dir), stoppable and restartable. */
export class PrivateInfluxDb {
  private process?: RunningProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(label: string): Promise<PrivateInfluxDb> {
    const dir = mkdtempSync(join(tmpdir(), `taskit-influx-${label}-`));
    const influx = new PrivateInfluxDb(await freePort(), dir);
    writeFileSync(join(dir, 'influxdb.conf'), influxConfig(dir, influx.port, await freePort()));
    await influx.resume();
    return influx;
  }

  /** Starts (again) on the same port and data. */
  async resume(): Promise<void> {
    const child = spawn(
      testServices().influxdBinary,
      ['run', '-config', join(this.dir, 'influxdb.conf')],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.process = new RunningProcess('influxd', child, this.port);
    await waitFor(
      'private InfluxDB',
      async () => {
        if (!this.process?.isRunning) throw new Error(`influxd exited:\n${this.process?.output}`);
        return (await fetch(`${this.url}/ping`)).status === 204;
      },
      30_000,
    );
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  async pause(): Promise<void> {
    await this.process?.stop('SIGTERM');
  }

  /** Suspends the server (SIGSTOP): its connections stay open and no query is answered. */
  freeze(): void {
    this.process?.child.kill('SIGSTOP');
  }

  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void {
    this.process?.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    await this.process?.stop('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * An isolated stack whose RabbitMQ and/or InfluxDB are private servers (the others stay the
 * shared ones, isolated by database/prefix as usual).
 */
export async function createPrivateStack(
  label: string,
  servers: { rabbitmq?: PrivateRabbitMq; influxdb?: PrivateInfluxDb },
): Promise<IsolatedStack> {
  const shared = await createIsolatedStack(label);
  const stack: IsolatedStack = { ...shared };
  if (servers.rabbitmq) {
    stack.rabbitmqUrl = servers.rabbitmq.url;
    stack.vhost = '/';
  }
  if (servers.influxdb) {
    stack.influxUrl = servers.influxdb.url;
    await influxQuery(stack.influxUrl, `CREATE DATABASE "${stack.influxDatabase}"`);
  }
  return stack;
}

/** A redis-server of its own on a free port, without persistence: a restart loses every key. */
export class PrivateRedis extends RestartableServer {
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(label: string): Promise<PrivateRedis> {
    const dir = mkdtempSync(join(tmpdir(), `taskit-redis-${label}-`));
    const server = new PrivateRedis(await freePort(), dir);
    await server.resume();
    return server;
  }

  protected spawnServer(): RunningProcess {
    const child = spawn(
      'redis-server',
      [...redisServerArgs(this.port, this.dir), '--loglevel', 'warning'],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    return new RunningProcess('private redis', child, this.port);
  }

  protected isUp(): Promise<boolean> {
    return isPortOpen(this.port);
  }
}

/** Every backing server private: what a test may stop and start at will. */
export interface PrivateServers {
  rabbitmq: PrivateRabbitMq;
  influxdb: PrivateInfluxDb;
  ferretdb: PrivateFerretDb;
  redis: PrivateRedis;
}

/**
 * Starts a private RabbitMQ node, InfluxDB, FerretDB and Redis (in parallel) and returns them
 * with a stack description pointing at them. If any fails to start, the others are stopped.
 * `stop()` of the result stops every one of them and removes their data.
 */
export async function startPrivateServers(
  label: string,
): Promise<{ servers: PrivateServers; stack: IsolatedStack; stop(): Promise<void> }> {
  const starts = [
    PrivateRabbitMq.start(label),
    PrivateInfluxDb.start(label),
    PrivateFerretDb.start(label),
    PrivateRedis.start(label),
  ] as const;
  const settled = await Promise.allSettled(starts);
  const stopAll = async () => {
    await Promise.allSettled(
      settled.map((result) =>
        result.status === 'fulfilled' ? result.value.stop() : Promise.resolve(),
      ),
    );
  };
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  const [rabbitmq, influxdb, ferretdb, redis] = settled.map(
    (result) => (result as PromiseFulfilledResult<unknown>).value,
  ) as [PrivateRabbitMq, PrivateInfluxDb, PrivateFerretDb, PrivateRedis];
  const id = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const influxDatabase = `taskit_${id}`;
  try {
    await influxQuery(influxdb.url, `CREATE DATABASE "${influxDatabase}"`);
  } catch (error) {
    await stopAll();
    throw error;
  }
  const stack: IsolatedStack = {
    id,
    mongodbUri: `${ferretdb.url}/taskit_${id}`,
    redisUrl: redis.url,
    redisPrefix: `taskit-${id}:`,
    rabbitmqUrl: rabbitmq.url,
    vhost: '/',
    influxUrl: influxdb.url,
    influxDatabase,
    influxBucket: `${influxDatabase}/autogen`,
    // The servers are private: stopping them removes everything.
    cleanup: () => Promise.resolve(),
  };
  return { servers: { rabbitmq, influxdb, ferretdb, redis }, stack, stop: stopAll };
}
