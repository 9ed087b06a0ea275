import { request as httpRequest } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DEPENDENCY_CHECK_CACHE_MS } from '@taskit/observability';
import { createClient } from 'redis';
import { registeredClient } from '../../../test/support/api-client';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { metricValue } from '../../../test/support/pipeline';
import {
  freePort,
  serviceEnvironment,
  spawnService,
  startService,
  waitFor,
  type RunningProcess,
} from '../../../test/support/processes';

/** A socket to `port` that has sent `head`, the start of a request it finishes later. */
function openSocket(port: number, head: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head, () => resolve(socket)));
    socket.once('error', reject);
  });
}

/** The raw response read until the server closes the socket (the request said Connection: close). */
function responseOf(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('end', () => resolve(text));
    socket.once('error', reject);
  });
}

/**
 * A TCP relay to Redis that counts the PING commands passing through it and can stall
 * (keep the connections open, forward nothing), as a Redis that stopped answering would.
 */
class RedisRelay {
  pings = 0;
  stalled = false;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(target: string): Promise<RedisRelay> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    const relay = new RedisRelay(server);
    server.on('connection', (client) => {
      const upstream = connect(Number(port), hostname);
      for (const socket of [client, upstream]) {
        relay.sockets.add(socket);
        socket.on('error', () => client.destroy());
        socket.on('close', () => upstream.destroy());
      }
      client.on('data', (chunk: Buffer) => {
        relay.pings += chunk.toString('latin1').match(/\r\nPING\r\n/gi)?.length ?? 0;
        if (!relay.stalled) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!relay.stalled) client.write(chunk);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Resolves once a new connection to `port` is refused (the listener is closed). */
async function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('gateway process: configuration, health and metrics', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('gwhealth');
    gateway = await startService('gateway', stack);
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack.cleanup();
  });

  it('answers /health/ready with the status only, and each dependency in the metrics', async () => {
    const response = await fetch(`${gateway.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    for (const [dependency, required] of [
      ['mongodb', true],
      ['redis', true],
      ['rabbitmq', false],
    ]) {
      expect(
        await metricValue(
          gateway.url,
          `taskit_dependency_up{dependency="${dependency}",required="${required}"}`,
        ),
      ).toBe(1);
    }
  });

  it('stays ready while RabbitMQ is unreachable: degraded, no error text, the metrics say which', async () => {
    const brokerPort = await freePort();
    const env = serviceEnvironment(stack, await freePort(), {
      RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${brokerPort}`,
    });
    const withoutBroker = spawnService('gateway', env);
    try {
      await waitFor('the gateway without a broker to answer', async () => {
        if (!withoutBroker.isRunning) throw new Error(withoutBroker.output);
        return (
          (await fetch(`${withoutBroker.url}/health/live`).catch(() => undefined))?.ok === true
        );
      });
      const response = await fetch(`${withoutBroker.url}/health/ready`);
      const text = await response.text();
      expect(response.status).toBe(200);
      expect(JSON.parse(text)).toEqual({ status: 'degraded' });
      expect(text).not.toContain(String(brokerPort));
      expect(
        await metricValue(
          withoutBroker.url,
          'taskit_dependency_up{dependency="rabbitmq",required="false"}',
        ),
      ).toBe(0);
      // It serves: a sign-up and a task are written, their events wait in the outbox.
      const api = await registeredClient(withoutBroker.url, 'nobroker');
      expect((await api.post('/api/tasks', { title: 'kept for later' })).status).toBe(201);
      // The reason goes to the log, not to the public.
      expect(withoutBroker.output).toContain('rabbitmq degraded: not connected');
    } finally {
      await withoutBroker.stop();
    }
  });

  it("keeps the cache's pages on REDIS_CACHE_URL's instance, its versions beside the sessions, and serves lists without it", async () => {
    // Database 1 of the machine's Redis, through a relay that can go away, stands for the
    // evicting cache instance; the sessions' instance is database 0.
    const relay = await RedisRelay.start(stack.redisUrl);
    const env = serviceEnvironment(stack, await freePort(), { REDIS_CACHE_URL: `${relay.url}/1` });
    const withCache = spawnService('gateway', env);
    const redis = createClient({ url: stack.redisUrl });
    await redis.connect();
    try {
      await waitFor('the gateway with a cache instance to be ready', async () => {
        if (!withCache.isRunning) throw new Error(withCache.output);
        return (await fetch(`${withCache.url}/health/ready`).catch(() => undefined))?.ok === true;
      });
      const api = await registeredClient(withCache.url, 'cacheinstance');
      expect((await api.post('/api/tasks', { title: 'cached apart' })).status).toBe(201);
      expect((await api.get('/api/tasks')).status).toBe(200);
      const keysIn = async (db: number, kind: string) => {
        const client = redis.duplicate({ database: db });
        await client.connect();
        try {
          return (await client.keys(`${stack.redisPrefix}${kind}:*`)).length;
        } finally {
          await client.close();
        }
      };
      expect(await keysIn(1, 'cache:tasks')).toBe(1);
      expect(await keysIn(0, 'cache:tasks')).toBe(0);
      expect(await keysIn(1, 'tasks-version')).toBe(0);
      expect(await keysIn(0, 'tasks-version')).toBeGreaterThanOrEqual(1);

      await relay.stop();
      await waitFor('readiness to report the cache instance away', async () => {
        const answer = await fetch(`${withCache.url}/health/ready`);
        return (
          answer.status === 200 &&
          ((await answer.json()) as { status: string }).status === 'degraded'
        );
      });
      expect(
        await metricValue(
          withCache.url,
          'taskit_dependency_up{dependency="redis-cache",required="false"}',
        ),
      ).toBe(0);
      // Without the cache every list comes from MongoDB, and writes go on.
      expect((await api.post('/api/tasks', { title: 'while the cache is away' })).status).toBe(201);
      const list = await api.get('/api/tasks');
      expect(list.status).toBe(200);
      const { tasks } = list.body as { tasks: { title: string }[] };
      expect(tasks.map((t) => t.title)).toEqual(['cached apart', 'while the cache is away']);
    } finally {
      await redis.close();
      await withCache.stop();
      await relay.stop().catch(() => undefined);
    }
  });

  it('checks Redis at most about once a second under a burst of probes, and answers within the probe deadline while Redis stalls', async () => {
    const relay = await RedisRelay.start(stack.redisUrl);
    const env = serviceEnvironment(stack, await freePort(), { REDIS_URL: relay.url });
    const behindRelay = spawnService('gateway', env);
    try {
      await waitFor('the gateway behind the relay to be ready', async () => {
        if (!behindRelay.isRunning) throw new Error(behindRelay.output);
        return (await fetch(`${behindRelay.url}/health/ready`).catch(() => undefined))?.ok === true;
      });
      const before = relay.pings;
      const burst = await Promise.all(
        Array.from({ length: 200 }, () => fetch(`${behindRelay.url}/health/ready`)),
      );
      expect(burst.map((r) => r.status)).toEqual(burst.map(() => 200));
      // The connection watchdog pings once a second too; 200 unshared checks would add 200.
      expect(relay.pings - before).toBeLessThan(10);

      relay.stalled = true;
      // Past the cached result of the burst: the next probe runs a check that meets the stall.
      await new Promise((resolve) => setTimeout(resolve, DEPENDENCY_CHECK_CACHE_MS + 200));
      // A Kubernetes probe with timeoutSeconds 3 gets its answer, whatever Redis does.
      const stalled = await fetch(`${behindRelay.url}/health/ready`, {
        signal: AbortSignal.timeout(3_000),
      });
      expect(stalled.status).toBe(503);
      expect(await stalled.json()).toEqual({ status: 'error' });
    } finally {
      await behindRelay.stop();
      await relay.stop();
    }
  });

  it('echoes a well-formed request id and replaces a forged one', async () => {
    const echoed = await fetch(`${gateway.url}/health/live`, {
      headers: { 'x-request-id': 'req-123' },
    });
    expect(echoed.headers.get('x-request-id')).toBe('req-123');
    const forged = await fetch(`${gateway.url}/health/live`, {
      headers: { 'x-request-id': 'bad id\twith spaces' },
    });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exposes Prometheus metrics with request durations by route and status', async () => {
    await fetch(`${gateway.url}/health/live`);
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/health\/live",status_code="200"\} \d+/,
    );
  });

  it('drains on SIGTERM: readiness 503, in-flight requests completed, then exit 0', async () => {
    const second = await startService('gateway', stack);
    const port = second.port!;
    // Two requests in flight before the signal: a readiness probe whose headers are not finished
    // and a registration whose body is half sent.
    const probe = await openSocket(port, 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const probeResponse = responseOf(probe);
    const body = JSON.stringify({
      email: `drain-${stack.id}@example.com`,
      password: 'drain-pass-1',
    });
    const half = Math.floor(body.length / 2);
    const registration = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/auth/register',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const registered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      registration.once('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      registration.once('error', reject);
    });
    await new Promise<void>((resolve) => registration.write(body.slice(0, half), () => resolve()));

    const exit = second.stop('SIGTERM');
    // The listener closes (readiness was failed before it), while the two requests hold it open.
    await waitFor('the draining gateway to refuse new connections', () => refusesConnections(port));
    expect(second.isRunning).toBe(true);

    probe.write('Connection: close\r\n\r\n');
    const probeText = await probeResponse;
    expect(probeText).toMatch(/^HTTP\/1\.1 503 /);
    expect(probeText).toContain('{"status":"shutting_down"}');

    registration.end(body.slice(half));
    const answer = await registered;
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({
      user: { email: `drain-${stack.id}@example.com` },
    });
    expect(await exit).toBe(0);
  });

  it.each([
    ['MONGODB_URI', 'mysql://127.0.0.1/taskit'],
    ['REDIS_URL', 'not a url'],
    ['PORT', 'eighty'],
    ['RABBITMQ_URL', 'http://127.0.0.1:5672'],
  ])('refuses to start when %s is malformed, naming it', async (name, value) => {
    const env = serviceEnvironment(stack, await freePort(), { [name]: value });
    const failed = spawnService('gateway', env);
    expect(await failed.exited).not.toBe(0);
    expect(failed.output).toContain(`${name}:`);
    expect(failed.output).not.toContain('    at '); // a message, not a stack trace
  });

  it('requires SESSION_SECRET in production', async () => {
    const env = serviceEnvironment(stack, await freePort(), { NODE_ENV: 'production' });
    const failed = spawnService('gateway', env);
    expect(await failed.exited).not.toBe(0);
    expect(failed.output).toContain('SESSION_SECRET:');
  });
});
