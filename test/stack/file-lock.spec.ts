import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-environment';

/**
 * The stack builds each Go server once and starts each server once across processes
 * (tools/stack/file-lock.mts): real processes, each running the lock around a "build" or a
 * "start" that takes a while and counts itself.
 */
const builder = `
  import { appendFileSync, writeFileSync } from 'node:fs';
  import { buildOnce } from ${JSON.stringify(join(REPO_ROOT, 'tools/stack/file-lock.mts'))};
  const [target, log] = process.argv.slice(1);
  const path = await buildOnce(
    target,
    async () => {
      appendFileSync(log, 'built by ' + process.pid + '\\n');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      writeFileSync(target, 'binary');
      return target;
    },
    (pid) => appendFileSync(log, process.pid + ' waited for ' + pid + '\\n'),
    50,
  );
  process.stdout.write(path);
`;

/** What ensureService does under its start lock: look for a running server, else start one. */
const starter = `
  import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
  import { withFileLock } from ${JSON.stringify(join(REPO_ROOT, 'tools/stack/file-lock.mts'))};
  const [pidFile, log] = process.argv.slice(1);
  const outcome = await withFileLock(
    pidFile + '.lock',
    async () => {
      if (existsSync(pidFile)) return 'reused';
      await new Promise((resolve) => setTimeout(resolve, 500));
      writeFileSync(pidFile, String(process.pid));
      appendFileSync(log, 'started by ' + process.pid + '\\n');
      return 'started';
    },
    () => undefined,
    50,
  );
  process.stdout.write(outcome);
`;

function runBuilder(target: string, log: string): Promise<string> {
  return runScript(builder, target, log);
}

function runScript(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

describe('building and starting stack servers across processes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'taskit-build-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('builds once when three processes need the binary at the same time', async () => {
    const target = join(dir, 'bin', 'server');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    const paths = await Promise.all([1, 2, 3].map(() => runBuilder(target, log)));
    expect(paths).toEqual([target, target, target]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('built by'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('waited for'))).toHaveLength(2);
    expect(readFileSync(target, 'utf8')).toBe('binary');
    expect(() => readFileSync(`${target}.lock`)).toThrow();
  });

  it("takes over the lock of a builder that died, and of a reused pid's", async () => {
    const target = join(dir, 'server');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    // A pid that no longer runs; then this test's own pid with another start time.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    for (const holder of [`${dead} 1`, `${process.pid} 1`]) {
      rmSync(target, { force: true });
      writeFileSync(`${target}.lock`, `${holder}\n`);
      await expect(runBuilder(target, log)).resolves.toBe(target);
    }
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('built by'))).toHaveLength(2);
    expect(lines.filter((line) => line.includes('waited for'))).toHaveLength(0);
  });

  it('starts a server once when three processes ensure it at the same time', async () => {
    const pidFile = join(dir, 'server.pid');
    const log = join(dir, 'log');
    writeFileSync(log, '');
    const outcomes = await Promise.all([1, 2, 3].map(() => runScript(starter, pidFile, log)));
    expect(outcomes.sort()).toEqual(['reused', 'reused', 'started']);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(() => readFileSync(`${pidFile}.lock`)).toThrow();
  });
});
