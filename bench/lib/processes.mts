import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/stack/paths.mts';
import { RunningProcess } from '../../libs/testing/src/running-process.ts';
import { childEnvironment } from '../../libs/testing/src/services.ts';

export const BENCH_DIR = join(REPO_ROOT, '.bench');
export const LOG_DIR = join(BENCH_DIR, 'logs');

/** Every child this run started, so that an error or Ctrl-C stops exactly those. */
const children = new Set<RunningProcess>();
/** What the parts leave behind (isolated stacks), removed last, newest first. */
const cleanups: (() => Promise<void>)[] = [];

/** Output in .bench/logs/NAME.log. */
export function logFile(name: string): string {
  return join(LOG_DIR, `${name}.log`);
}

/** Keeps `running` in the set that `stopEverything` stops. */
export function track(running: RunningProcess): RunningProcess {
  children.add(running);
  void running.exited.then(() => children.delete(running));
  return running;
}

export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** Stops every child still running (SIGKILL after 5 s), then runs the cleanups. */
export async function stopEverything(report: (message: string) => void): Promise<void> {
  await Promise.all([...children].map((child) => child.stop('SIGTERM', 5_000)));
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: Error) => report(`cleanup: ${error.message}`));
  }
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  port?: number,
): RunningProcess {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: childEnvironment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(new RunningProcess(name, child, port, logFile(name)));
}

/**
 * Runs a benchmark helper script (a separate Node process) to completion: its last stdout
 * line is its JSON result.
 */
export async function runScript<T>(name: string, script: string, input: unknown): Promise<T> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bench', script)], {
    cwd: REPO_ROOT,
    env: childEnvironment({}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const tracked = track(new RunningProcess(name, child, undefined, logFile(name)));
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stdin.end(JSON.stringify(input));
  const code = await tracked.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${tracked.output.slice(-4000)}`);
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

/** Reads all of stdin (a helper's JSON input). */
export async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += String(chunk);
  return data;
}
