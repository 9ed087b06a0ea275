// redocly lint, with its recommended rules, of the OpenAPI document a running gateway serves
// (docs/api.md, "The OpenAPI document"). The document is generated from the controllers'
// decorators at start-up, so it is linted as served, not as a file in the repository.
//
//   node tools/docs/lint-openapi.mjs [URL] [--json]
//
// URL defaults to the gateway of `npm run up`. Exit 0 when redocly reports nothing (errors
// and warnings alike), 1 when it reports a problem, 2 when the document could not be read.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const DEFAULT_URL = 'http://127.0.0.1:3000/api/docs/openapi.json';
const redoclyCli = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin',
  'cli.js',
);

/** redocly's problems with `document`: `{severity, rule, message, pointer}` each. */
export async function lintOpenApi(document) {
  const dir = await mkdtemp(path.join(tmpdir(), 'taskit-openapi-'));
  try {
    const file = path.join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document, null, 2));
    // No redocly.yaml in the repository: `lint` applies the `recommended` ruleset.
    const args = [redoclyCli, 'lint', file, '--format', 'json', '--max-problems', '1000'];
    const env = {
      ...process.env,
      REDOCLY_TELEMETRY: 'off',
      REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
    };
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      env,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error) => {
      if (typeof error.stdout === 'string' && error.stdout.includes('"problems"')) return error;
      throw error;
    });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{')));
    return report.problems.map((problem) => ({
      severity: problem.severity,
      rule: problem.ruleId,
      message: problem.message,
      pointer: problem.location?.[0]?.pointer ?? '',
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const json = process.argv.includes('--json');
  const url = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? DEFAULT_URL;
  let document;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    document = await response.json();
  } catch (error) {
    console.error(`lint-openapi: could not read the document: ${error.message}`);
    process.exit(2);
  }
  const problems = await lintOpenApi(document);
  if (json) {
    console.log(JSON.stringify({ url, problems }, null, 2));
  } else {
    for (const p of problems) console.log(`${p.severity} ${p.rule} ${p.pointer}: ${p.message}`);
    const errors = problems.filter((p) => p.severity === 'error').length;
    console.log(`lint-openapi: ${errors} errors, ${problems.length - errors} warnings (${url})`);
  }
  process.exit(problems.length > 0 ? 1 : 0);
}
