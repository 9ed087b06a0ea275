// The Go-built tools of the deploy checks, pinned here and only here. Built from the Go
// module proxy into <repo>/.cache/bin/<name>-<version> (git-ignored) and reused while the
// version stays the same; a version bump builds the new binary next to the old one.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runOk } from './harness.mjs';

export const TOOLS = {
  kustomize: { module: 'sigs.k8s.io/kustomize/kustomize/v5', version: 'v5.8.1' },
  kubeconform: {
    module: 'github.com/yannh/kubeconform',
    package: 'cmd/kubeconform',
    version: 'v0.7.0',
  },
  // OpenTofu's go.mod has a replace directive, which `go install module@version` refuses:
  // it is built as the main module from its downloaded source instead.
  tofu: {
    module: 'github.com/opentofu/opentofu',
    package: 'cmd/tofu',
    version: 'v1.10.10',
    asMainModule: true,
  },
  actionlint: {
    module: 'github.com/rhysd/actionlint',
    package: 'cmd/actionlint',
    version: 'v1.7.12',
  },
  // Prometheus tags its Go module v0.3xx for the 3.x releases. Rules need no service
  // discovery: remove_all_sd leaves out the cloud SDKs, most of the build.
  promtool: {
    module: 'github.com/prometheus/prometheus',
    package: 'cmd/promtool',
    version: 'v0.316.0',
    tags: ['remove_all_sd'],
  },
  conftest: { module: 'github.com/open-policy-agent/conftest', version: 'v0.71.1' },
};

function goBinary() {
  if (process.env.GO) return process.env.GO;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

/** Returns the path of the tool's binary, building it first when missing. */
export function ensureTool(repoRoot, name) {
  const tool = TOOLS[name];
  const binDir = path.join(repoRoot, '.cache', 'bin');
  const target = path.join(binDir, `${name}-${tool.version}`);
  if (existsSync(target)) return { path: target, built: false };

  mkdirSync(binDir, { recursive: true });
  const go = goBinary();
  // GOTOOLCHAIN=local: a module's `toolchain` line must not fetch another Go.
  const env = {
    ...process.env,
    GOFLAGS: '-buildvcs=false',
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
  };
  const flags = [
    '-trimpath',
    '-ldflags=-s -w',
    ...(tool.tags ? ['-tags', tool.tags.join(',')] : []),
  ];
  const scratch = mkdtempSync(path.join(tmpdir(), `deploy-check-${name}-`));
  try {
    const gobin = path.join(scratch, 'bin');
    mkdirSync(gobin);
    if (tool.asMainModule) {
      const info = JSON.parse(
        runOk(go, ['mod', 'download', '-json', `${tool.module}@${tool.version}`], {
          env,
          cwd: scratch,
        }),
      );
      runOk(go, ['build', ...flags, '-o', path.join(gobin, name), `./${tool.package}`], {
        env,
        cwd: info.Dir,
      });
    } else {
      const pkg = tool.package ? `${tool.module}/${tool.package}` : tool.module;
      runOk(go, ['install', ...flags, `${pkg}@${tool.version}`], {
        env: { ...env, GOBIN: gobin },
        cwd: scratch,
      });
    }
    // go install names the binary after the package (kustomize, not v5): take the only file.
    const [built] = readdirSync(gobin);
    // Copy then rename: the cache may be on another filesystem than the scratch dir, and a
    // half-written binary must never be taken for a finished one.
    copyFileSync(path.join(gobin, built), `${target}.partial`);
    chmodSync(`${target}.partial`, 0o755);
    renameSync(`${target}.partial`, target);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { path: target, built: true };
}
