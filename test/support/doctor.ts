import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { IsolatedStack } from './isolated-stack';
import { REPO_ROOT } from './test-environment';

/** The doctor's --json report (docs/operations.md). */
export interface DoctorCheck {
  hop: string;
  name: string;
  ok: boolean;
  detail: string;
  hint: string | null;
}

export interface DoctorRun {
  code: number;
  ok: boolean;
  checks: DoctorCheck[];
  /** The check called `name`; throws (listing the names) when there is none. */
  check(name: string): DoctorCheck;
  failed(): string[];
}

/** The settings the services of `stack` run with, as the doctor reads them. */
export function doctorEnvironment(
  stack: IsolatedStack,
  urls: { gateway?: string; analytics?: string },
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    MONGODB_URI: stack.mongodbUri,
    RABBITMQ_URL: stack.rabbitmqUrl,
    INFLUX_URL: stack.influxUrl,
    INFLUX_TOKEN: '',
    INFLUX_ORG: '-',
    INFLUX_BUCKET: stack.influxBucket,
    GATEWAY_URL: urls.gateway ?? 'none',
    ANALYTICS_URL: urls.analytics ?? 'none',
    TELEGRAF_CONFIG: join(REPO_ROOT, 'deploy', 'telegraf', 'telegraf.conf'),
    ...overrides,
  };
}

/** Runs the built doctor (`npm test` builds dist) with exactly `env`, always with --json. */
export function runDoctor(env: Record<string, string>, ...args: string[]): Promise<DoctorRun> {
  const entry = join(REPO_ROOT, 'dist', 'apps', 'doctor', 'src', 'main.js');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [entry, '--json', ...args],
      { cwd: REPO_ROOT, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? Number((error as { code?: unknown }).code) : 0;
        let report: { ok: boolean; checks: DoctorCheck[] };
        try {
          report = JSON.parse(stdout) as typeof report;
        } catch {
          reject(new Error(`doctor exited ${code} without a JSON report:\n${stdout}\n${stderr}`));
          return;
        }
        resolve({
          code,
          ...report,
          check(name) {
            const found = report.checks.find((c) => c.name === name);
            if (!found) {
              throw new Error(
                `no check "${name}" in ${report.checks.map((c) => c.name).join(', ')}`,
              );
            }
            return found;
          },
          failed: () => report.checks.filter((c) => !c.ok).map((c) => c.name),
        });
      },
    );
  });
}
