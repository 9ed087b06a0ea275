import { join } from 'node:path';
import type { IsolatedStack } from '../../libs/testing/src/isolated-stack';
import type { RunningProcess } from '../../libs/testing/src/running-process';
import * as harness from '../../libs/testing/src/services';
import { REPO_ROOT, testServices } from './test-environment';

export { freePort, waitFor } from '../../libs/testing/src/ports';
export { RunningProcess } from '../../libs/testing/src/running-process';
export { serviceEnvironment, type ServiceName } from '../../libs/testing/src/services';

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
