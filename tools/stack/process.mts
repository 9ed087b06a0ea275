import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, LOG_DIR, PID_DIR } from './paths.mts';

/** Runs a command to completion; rejects with its output when it exits non-zero. */
export function run(
  command: string,
  args: string[],
  options: SpawnOptions & { quiet?: boolean } = {},
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(output);
      else
        reject(
          new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`),
        );
    });
  });
}

export function commandExists(command: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':');
  return dirs.some((dir) => dir !== '' && existsSync(join(dir, command)));
}

export { isPortOpen } from '../../libs/testing/src/ports.ts';

export async function waitUntil(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s`);
}

function pidFile(name: string): string {
  return join(PID_DIR, `${name}.pid`);
}

export function logFile(name: string): string {
  return join(ensureDir(LOG_DIR), `${name}.log`);
}

/**
 * Whether a process with this pid exists, by signal 0. `not-permitted` (EPERM): it exists and
 * belongs to another user.
 */
export function probeProcess(pid: number): 'alive' | 'gone' | 'not-permitted' {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'not-permitted' : 'gone';
  }
}

/** Alive and ours to signal: a process `npm run down` can stop and should wait for. */
function isAlive(pid: number): boolean {
  return probeProcess(pid) === 'alive';
}

/** The pid of a process this project started and that still runs, if any. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) return pid;
  rmSync(file, { force: true });
  return undefined;
}

/** Starts a long-running process detached from this one, logging to .run/logs/NAME.log. */
export function startDetached(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): number {
  const log = openSync(logFile(name), 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  child.unref();
  writePidFile(name, child.pid);
  return child.pid;
}

/** Records `pid` as this project's `name` (for `down` and `status`). */
export function writePidFile(name: string, pid: number): void {
  writeFileSync(join(ensureDir(PID_DIR), `${name}.pid`), `${pid}\n`);
}

/**
 * Stops a process started by startDetached: SIGTERM, then SIGKILL after `graceMs`; with
 * `group`, its whole process group (a builder and the compilers it runs).
 */
export async function stopByPid(
  name: string,
  graceMs = 10_000,
  options: { group?: boolean } = {},
): Promise<boolean> {
  const pid = runningPid(name);
  if (pid === undefined) return false;
  const target = options.group ? -pid : pid;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) signal('SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  rmSync(pidFile(name), { force: true });
  return true;
}

/** Names of every process whose pid file says this project started it. */
export function startedNames(): string[] {
  if (!existsSync(PID_DIR)) return [];
  return readdirSync(PID_DIR)
    .filter((file) => file.endsWith('.pid'))
    .map((file) => file.slice(0, -'.pid'.length));
}
