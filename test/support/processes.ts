import { join } from 'node:path';
import type { IsolatedStack } from '../harness/isolated-stack';
import type { RunningProcess } from '../harness/running-process';
import * as harness from '../harness/services';
import { REPO_ROOT, testServices } from './test-environment';

export { freePort, waitFor } from '../harness/ports';
export { RunningProcess } from '../harness/running-process';
export { serviceEnvironment, type ServiceName } from '../harness/services';

/** Runs the built service (`npm test` builds dist first) with exactly the given environment. */
export function spawnService(service: harness.ServiceName, env: Record<string, string>) {
  return harness.spawnService(service, env, { repoRoot: REPO_ROOT });
}

/** Starts a service on a free port of an isolated stack and waits until it is ready. */
export function startService(
  service: harness.ServiceName,
  stack: IsolatedStack,
  overrides: Record<string, string> = {},
): Promise<RunningProcess> {
  return harness.startService(service, stack, overrides, { repoRoot: REPO_ROOT });
}

/**
 * Telegraf pointed at the stack, with the project's own deploy/telegraf/telegraf.conf or
 * another config file (for example one with a typo).
 */
export function startTelegraf(
  stack: IsolatedStack,
  options: { queue?: string; config?: string; name?: string } = {},
): RunningProcess {
  const config = options.config ?? join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf');
  return harness.spawnTelegraf(testServices().telegrafBinary, config, stack, options);
}
