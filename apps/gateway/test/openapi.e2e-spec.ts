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

/**
 * tools/openapi/api-types.mts --check: the served document, rendered by openapi-typescript,
 * is the committed libs/contracts/src/openapi/gateway-api.d.ts that the typed client uses.
 */
async function checkApiTypes(url: string): Promise<{ code: number; output: string }> {
  const script = join(REPO_ROOT, 'tools', 'openapi', 'api-types.mts');
  const run = promisify(execFile)(process.execPath, [script, '--check', url], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  return run.then(
    ({ stdout, stderr }) => ({ code: 0, output: `${stdout}${stderr}` }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof error.code === 'number' ? error.code : -1,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
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

  it('is the document the committed types of the typed client were generated from', async () => {
    const { code, output } = await checkApiTypes(`${gateway.url}/api/docs/openapi.json`);
    // On a difference the output says: run npm run api:types and commit the result.
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('matches') });
  });

  it("cites the repository's own docs, not documents a reader of it cannot open", async () => {
    const text = await (await fetch(`${gateway.url}/api/docs/openapi.json`)).text();
    expect(text).not.toMatch(/CONTRACT|§|\bissue \d+/i);
  });
});
