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
 * Runs `build` (which must create `target`) in one process at a time, across processes: a
 * second command that needs the same binary waits for the first one's build instead of
 * compiling it again beside it. `npm run up` builds Telegraf and Jaeger in the background, so
 * an `npm test` or `npm run bench` started right after it would otherwise compile Jaeger twice
 * at once, each at half speed on a 2-core machine.
 *
 * The lock is `<target>.lock`, created exclusively and holding its builder's pid and start time
 * (so that a lock left in a restored cache is not mistaken for a reused pid's). A lock whose
 * builder has died (`npm run down` stops a background build with SIGKILL if it must) is
 * removed and the build taken over.
 */
export async function buildOnce(
  target: string,
  build: () => Promise<string>,
  onWait: (builderPid: number) => void = () => undefined,
  pollMs = 1_000,
): Promise<string> {
  const lock = `${target}.lock`;
  let waitingFor: number | undefined;
  mkdirSync(dirname(target), { recursive: true });
  for (;;) {
    if (existsSync(target)) return target;
    const fd = tryCreate(lock);
    if (fd !== undefined) {
      try {
        writeSync(fd, `${process.pid} ${startTime(process.pid)}\n`);
        closeSync(fd);
        // Built by another process between our check and our lock.
        return existsSync(target) ? target : await build();
      } finally {
        rmSync(lock, { force: true });
      }
    }
    const holder = lockHolder(lock);
    const builder = holder?.pid;
    if (holder !== undefined && !isRunning(holder)) {
      rmSync(lock, { force: true });
      continue;
    }
    // An empty lock is being written by its builder this instant: wait as for a live one.
    if (builder !== undefined && builder !== waitingFor) {
      waitingFor = builder;
      onWait(builder);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
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
