import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-environment';

/**
 * The stack builds each Go server once across processes (tools/stack/build-lock.mts): real
 * processes, each running the lock around a "build" that takes a while and counts itself.
 */
const builder = `
  import { appendFileSync, writeFileSync } from 'node:fs';
  import { buildOnce } from ${JSON.stringify(join(REPO_ROOT, 'tools/stack/build-lock.mts'))};
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

function runBuilder(target: string, log: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', builder, target, log]);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

describe('building a stack binary across processes', () => {
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
});
