import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
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

  it('reports each dependency on /health/ready', async () => {
    const response = await fetch(`${gateway.url}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      checks: { mongodb: { status: 'up' }, redis: { status: 'up' }, rabbitmq: { status: 'up' } },
    });
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
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
    expect(probeText).toContain('"status":"error"');

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
