import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { probeProcess } from './process.mts';

/**
 * Runs `work` in one process at a time, across processes: the lock is the file `lock`, created
 * exclusively and holding its holder's pid and start time (so that a lock left in a restored
 * cache is not mistaken for a reused pid's). A lock whose holder has died (`npm run down`
 * stops a background build with SIGKILL if it must) is removed and taken over. `onWait` is
 * told each holder this call waits for.
 */
export async function withFileLock<T>(
  lock: string,
  work: () => Promise<T>,
  onWait: (holderPid: number) => void = () => undefined,
  pollMs = 1_000,
): Promise<T> {
  let waitingFor: number | undefined;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    const fd = tryCreate(lock);
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${startTime(process.pid)}\n`);
        closeSync(fd);
        return await work();
      } finally {
        rmSync(lock, { force: true });
      }
    }
    const holder = lockHolder(lock);
    if (holder !== undefined && !isRunning(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    // An empty lock is being written by its holder this instant: wait as for a live one.
    if (holder !== undefined && holder.pid !== waitingFor) {
      waitingFor = holder.pid;
      onWait(holder.pid);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Runs `build` (which must create `target`) once across processes, under the lock
 * `<target>.lock`: a second command that needs the same binary waits for the first one's build
 * instead of compiling it again beside it. `npm run up` builds Telegraf and Jaeger in the
 * background, so an `npm test` or `npm run bench` started right after it would otherwise
 * compile Jaeger twice at once, each at half speed on a 2-core machine.
 */
export async function buildOnce(
  target: string,
  build: () => Promise<string>,
  onWait: (builderPid: number) => void = () => undefined,
  pollMs = 1_000,
): Promise<string> {
  if (existsSync(target)) return target;
  // Built by the holder we waited for, or between our check and our lock.
  return withFileLock(
    `${target}.lock`,
    () => (existsSync(target) ? Promise.resolve(target) : build()),
    onWait,
    pollMs,
  );
}

function tryCreate(lock: string): number | undefined {
  try {
    return openSync(lock, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
}

interface Holder {
  pid: number;
  started: string;
}

function lockHolder(lock: string): Holder | undefined {
  try {
    const [pid, started = ''] = readFileSync(lock, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, started } : undefined;
  } catch {
    return undefined; // removed since: the next turn of the loop sees why
  }
}

/** Another user's process counts as running: a live build is never taken over. */
function isRunning({ pid, started }: Holder): boolean {
  if (probeProcess(pid) === 'gone') return false;
  return started === '' || startTime(pid) === started;
}

/** The process's start time in clock ticks since boot (Linux); empty where /proc has none. */
function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}
