import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnce } from './file-lock.mts';
import { lockWaitReporter, seconds, step, withHeartbeat } from './log.mts';
import { commandExists, run } from './process.mts';
import { CACHE_BIN, ensureDir } from './paths.mts';
import type { GoServer } from './versions.mts';

/** The cache key names the version and the build tags, so a change of either rebuilds. */
export function binaryPath(server: GoServer): string {
  const tags = createHash('sha256')
    .update((server.tags ?? []).join(','))
    .digest('hex')
    .slice(0, 8);
  return join(CACHE_BIN, `${server.name}-${server.version}-${tags}`);
}

function goCommand(): string {
  if (commandExists('go')) return 'go';
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  throw new Error(
    'Go is needed to build the backing servers: install Go 1.26 (https://go.dev/dl/)',
  );
}

const building = new Map<string, Promise<string>>();

/**
 * Builds a server from its Go module (through the Go module proxy) the first time it is
 * needed; later calls return the cached binary at once, and concurrent ones share the build,
 * in this process and across processes (file-lock.mts).
 */
export function ensureGoBinary(server: GoServer): Promise<string> {
  const target = binaryPath(server);
  if (existsSync(target)) return Promise.resolve(target);
  let build = building.get(target);
  if (build === undefined) {
    build = buildOrWait(server, target).finally(() => building.delete(target));
    building.set(target, build);
  }
  return build;
}

async function buildOrWait(server: GoServer, target: string): Promise<string> {
  const waiting = lockWaitReporter(server.name, 'building');
  try {
    return await buildOnce(
      target,
      () => {
        waiting.stop();
        return buildGoBinary(server, target);
      },
      waiting.onWait,
    );
  } finally {
    waiting.stop();
  }
}

async function buildGoBinary(server: GoServer, target: string): Promise<string> {
  const go = goCommand();
  const started = Date.now();
  step(`building ${server.name} ${server.version} from ${server.module} (first run only)`);
  const work = mkdtempSync(join(tmpdir(), `taskit-build-${server.name}-`));
  try {
    const env = { ...process.env, GOFLAGS: '-buildvcs=false', GO111MODULE: 'on' };
    const download = await withHeartbeat(
      `downloading ${server.module}`,
      run(go, ['mod', 'download', '-json', `${server.module}@${server.version}`], {
        cwd: work,
        env,
      }),
    );
    const moduleDir = (JSON.parse(download) as { Dir: string }).Dir;
    // Build inside a writable copy of the module so that its own go.mod and go.sum apply.
    const source = join(work, 'src');
    cpSync(moduleDir, source, { recursive: true });
    chmodSync(source, 0o755);
    await run('chmod', ['-R', 'u+w', source]);
    if (server.versionFile) writeFileSync(join(source, server.versionFile), `${server.version}\n`);
    const output = join(work, server.name);
    const tags = server.tags?.length ? ['-tags', server.tags.join(',')] : [];
    await withHeartbeat(
      `compiling ${server.name}`,
      // -s -w: no symbol table or DWARF, a faster link and a smaller binary.
      run(go, ['build', '-trimpath', '-ldflags=-s -w', ...tags, '-o', output, server.main], {
        cwd: source,
        env,
      }),
    );
    // Copy then rename: the cache may be on another file system than the temporary folder,
    // and a half-copied binary must never be taken for a built one.
    ensureDir(CACHE_BIN);
    const partial = `${target}.partial`;
    copyFileSync(output, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
    step(`built ${server.name} in ${seconds(started)}`);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
