import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createIsolatedStack, type IsolatedStack } from '../../../test/support/isolated-stack';
import { startService, type RunningProcess } from '../../../test/support/processes';
import { REPO_ROOT } from '../../../test/support/test-environment';

interface LintProblem {
  severity: 'error' | 'warn';
  rule: string;
  message: string;
  pointer: string;
}

/** tools/docs/lint-openapi.mjs (redocly lint, recommended rules) against a served document. */
async function lint(url: string): Promise<LintProblem[]> {
  const script = join(REPO_ROOT, 'tools', 'docs', 'lint-openapi.mjs');
  const run = promisify(execFile)(process.execPath, [script, url, '--json'], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  // Exit 1 means "problems found": its output is still the report.
  const { stdout } = await run.catch((error: { code?: number; stdout?: string }) => {
    if (error.code === 1 && error.stdout) return { stdout: error.stdout };
    throw error;
  });
  return (JSON.parse(stdout) as { problems: LintProblem[] }).problems;
}

describe('the OpenAPI document the gateway serves (docs/api.md, "The OpenAPI document")', () => {
  let stack: IsolatedStack;
  let gateway: RunningProcess;

  beforeAll(async () => {
    stack = await createIsolatedStack('openapi');
    gateway = await startService('gateway', stack);
  });

  afterAll(async () => {
    await gateway?.stop();
    await stack?.cleanup();
  });

  it('passes redocly lint with the recommended rules: no error, no warning', async () => {
    const problems = await lint(`${gateway.url}/api/docs/openapi.json`);
    expect(problems.map((p) => `${p.severity} ${p.rule} ${p.pointer}: ${p.message}`)).toEqual([]);
  });

  it("cites the repository's own docs, not documents a reader of it cannot open", async () => {
    const text = await (await fetch(`${gateway.url}/api/docs/openapi.json`)).text();
    expect(text).not.toMatch(/CONTRACT|§|\bissue \d+/i);
  });
});
