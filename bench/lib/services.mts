/**
 * What a part starts: its isolated stack of the shared servers (libs/testing, as the tests
 * make them), the built gateway and analytics service, the raw baseline server and Telegraf.
 * Everything is stopped and removed at the end of the run, or on an error or Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/stack/paths.mts';
import { SERVICE_URLS } from '../../tools/stack/services.mts';
import { createIsolatedStack, type IsolatedStack } from '../../libs/testing/src/isolated-stack.ts';
import { freePort } from '../../libs/testing/src/ports.ts';
import type { RunningProcess } from '../../libs/testing/src/running-process.ts';
import { spawnTelegraf, startService, UNMET_RATE_LIMITS } from '../../libs/testing/src/services.ts';
import { logFile, onCleanup, startProcess, track } from './processes.mts';
import { CACHE_TTL_S, CPU_PROF, PROFILE_DIR, SESSION_SECRET } from './settings.mts';

/** A part's private slice of the local stack's servers, removed by `cleanup()` or at exit. */
export async function createBenchStack(label: string): Promise<IsolatedStack> {
  const stack = await createIsolatedStack(
    label,
    {
      mongodbUrl: SERVICE_URLS.mongodb,
      redisUrl: SERVICE_URLS.redis,
      rabbitmqUrl: SERVICE_URLS.rabbitmq,
      influxUrl: SERVICE_URLS.influxdb,
    },
    'bench',
  );
  onCleanup(() => stack.cleanup());
  return stack;
}

let profiles = 0;
function nodeArgs(name: string): string[] {
  if (!CPU_PROF) return [];
  profiles += 1;
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${PROFILE_DIR}`,
    `--cpu-prof-name=${name}-${profiles}.cpuprofile`,
  ];
}

/** The worker settings given to the run (INGEST_*), passed on to the analytics service. */
function ingestOverrides(): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('INGEST_') && value !== undefined) overrides[key] = value;
  }
  return overrides;
}

async function startBuilt(
  service: 'gateway' | 'analytics',
  stack: IsolatedStack,
  overrides: Record<string, string>,
  args: string[] = [],
  logName: string = service,
): Promise<RunningProcess> {
  const launch = { repoRoot: REPO_ROOT, logFile: logFile(logName), nodeArgs: args };
  const env = { NODE_ENV: 'production', ...overrides };
  return track(await startService(service, stack, env, launch));
}

export function startGateway(
  stack: IsolatedStack,
  overrides: Record<string, string> = {},
  logName = 'gateway',
): Promise<RunningProcess> {
  // Plain HTTP (the plain `taskit.sid` cookie, as compose), and every benchmark user signs up
  // from this one address: production's sign-up limit would stop it.
  const local = { HTTPS_ONLY: 'false', REGISTRATION_MAX_PER_CLIENT: '1000000' };
  return startBuilt(
    'gateway',
    stack,
    { SESSION_SECRET, ...local, ...overrides },
    nodeArgs(logName),
    logName,
  );
}

export function startAnalytics(stack: IsolatedStack): Promise<RunningProcess> {
  return startBuilt('analytics', stack, ingestOverrides());
}

/**
 * bench/raw-server.mts: the gateway's read and write I/O without the framework, on the stack's
 * Redis slice (its sessions) and `mongodbUri` (by default the stack's database).
 */
export async function startRawServer(
  stack: IsolatedStack,
  mongodbUri = stack.mongodbUri,
): Promise<RunningProcess> {
  const port = await freePort();
  const child = startProcess(
    'raw-server',
    process.execPath,
    [...nodeArgs('raw'), 'bench/raw-server.mts'],
    {
      NODE_ENV: 'production',
      PORT: String(port),
      SESSION_SECRET,
      MONGODB_URI: mongodbUri,
      REDIS_URL: stack.redisUrl,
      REDIS_PREFIX: stack.redisPrefix,
      TASK_LIST_CACHE_TTL_SECONDS: String(CACHE_TTL_S),
      // The gateway's rate limits as its bench run has them (counted, never met).
      ...UNMET_RATE_LIMITS,
    },
    port,
  );
  await child.waitUntilReady('/health', 60_000);
  return child;
}

export function startTelegraf(stack: IsolatedStack, binary: string): RunningProcess {
  const config = join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf');
  return track(spawnTelegraf(binary, config, stack, { logFile: logFile('telegraf') }));
}

/** A process's command name and CPU time (user + system) so far, in ms, from /proc (Linux). */
export function processCpu(pid: number): { command: string; ms: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100,
    };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of a process so far, in ms (NaN once it has ended). */
export function cpuMs(pid: number | undefined): number {
  return (pid === undefined ? undefined : processCpu(pid))?.ms ?? Number.NaN;
}
