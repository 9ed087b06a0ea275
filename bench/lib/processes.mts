import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/stack/paths.mts';
import { sleep } from './stats.mts';

export const BENCH_DIR = join(REPO_ROOT, '.bench');
export const LOG_DIR = join(BENCH_DIR, 'logs');

/** Every child this run started, so that an error or Ctrl-C stops exactly those. */
const children = new Set<Child>();

/** A process started by the benchmark: output in .bench/logs/NAME.log, stopped by its pid. */
export class Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly port?: number;
  readonly exited: Promise<number | null>;
  private tail = '';

  constructor(name: string, process: ChildProcess, port?: number) {
    this.name = name;
    this.process = process;
    this.port = port;
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(join(LOG_DIR, `${name}.log`));
    const keep = (chunk: Buffer) => {
      log.write(chunk);
      this.tail = (this.tail + chunk.toString()).slice(-4000);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      process.once('exit', (code) => {
        children.delete(this);
        log.end();
        resolve(code);
      }),
    );
    children.add(this);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  get output(): string {
    return this.tail;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const killed = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs).then(() => false),
    ]);
    if (!killed && this.running) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop(5_000)));
}

/**
 * The environment children get: PATH and HOME only, the OTEL_* settings of the run (tracing
 * on, to measure its cost; README, "Tracing"), plus `env`.
 */
export function childEnv(env: Record<string, string>): Record<string, string> {
  const tracing = Object.entries(process.env).filter(
    (entry): entry is [string, string] => entry[0].startsWith('OTEL_') && entry[1] !== undefined,
  );
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...Object.fromEntries(tracing),
    ...env,
  };
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  port?: number,
): Child {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(name, child, port);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Waits for `url` to answer 200, failing early when the process exits. */
export async function waitHttpReady(child: Child, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!child.running) {
      throw new Error(`${child.name} exited before it was ready:\n${child.output}`);
    }
    try {
      const response = await fetch(`${child.url}${path}`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${child.name} not ready within ${timeoutMs / 1000} s:\n${child.output}`);
}

/**
 * Runs a benchmark helper script (a separate Node process) to completion: its last stdout
 * line is its JSON result.
 */
export async function runScript<T>(name: string, script: string, input: unknown): Promise<T> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bench', script)], {
    cwd: REPO_ROOT,
    env: childEnv({}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tracked = new Child(name, child);
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(JSON.stringify(input));
  const code = await tracked.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${tracked.output}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** Reads all of stdin (a helper's JSON input). */
export async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += String(chunk);
  return data;
}
