// Minimal check runner: each check is a named async function that throws (or returns a
// list of problems) on failure. Prints one line per check and the closing
// "N passed, M failed" line that CI reads.
import { spawnSync } from 'node:child_process';

export class CheckFailure extends Error {
  constructor(problems) {
    super(problems.join('\n'));
    this.problems = problems;
  }
}

/** Throws a CheckFailure listing every problem, or returns when there is none. */
export function assertNone(problems) {
  if (problems.length > 0) throw new CheckFailure(problems);
}

export function createRunner() {
  let passed = 0;
  let failed = 0;
  return {
    async check(name, fn) {
      const started = performance.now();
      try {
        const note = await fn();
        passed += 1;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`ok   ${name} (${seconds}s)${note ? ` - ${note}` : ''}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}`);
        const lines =
          error instanceof CheckFailure ? error.problems : [String(error?.stack ?? error)];
        for (const line of lines) console.log(`       ${line.replaceAll('\n', '\n       ')}`);
      }
    },
    summary() {
      console.log(`${passed} passed, ${failed} failed`);
      return failed;
    },
  };
}

/** Runs a command to completion; returns { status, stdout, stderr }. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...options,
  });
  if (result.error) throw result.error;
  return result;
}

/** Runs a command that must succeed; returns its stdout. */
export function runOk(command, args, options = {}) {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new CheckFailure([
      `${command} ${args.join(' ')} exited ${result.status}`,
      (result.stderr || result.stdout).trim(),
    ]);
  }
  return result.stdout;
}

/** actionlint over workflow files: one line per finding (none when clean). */
export function actionlint(binary, files) {
  const result = run(binary, ['-no-color', '-oneline', ...files]);
  if (result.status === 0) return [];
  const lines = result.stdout.split('\n').filter(Boolean);
  return lines.length > 0 ? lines : [result.stderr.trim() || `actionlint exited ${result.status}`];
}
