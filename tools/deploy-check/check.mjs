#!/usr/bin/env node
// Static checks of Taskit's delivery files (docs/deployment.md, "Static checks"): nothing
// here needs Docker, a cluster or a cloud account. Usage: node tools/deploy-check/check.mjs
// Schemas: tools/deploy-check/schemas (sources and licences in its SOURCES.md), or
// $TASKIT_SCHEMAS_DIR.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { actionlint, assertNone, createRunner } from './lib/harness.mjs';
import { selfTests } from './self-tests.mjs';
import { ensureTool, TOOLS } from './lib/tools.mjs';
import {
  conftest,
  KINDS_WITHOUT_SCHEMA,
  kubeconform,
  OPTIONAL_COMPONENTS,
  OVERLAYS,
  parseManifests,
  policyViolations,
  render,
  stageCombination,
  stageDeployTree,
} from './lib/k8s.mjs';
import {
  composeViolations,
  dockerfileViolations,
  dockerignoreViolations,
  grafanaViolations,
  rabbitDefinitionsViolations,
  readYaml,
  schemaValidator,
  skaffoldViolations,
} from './lib/files.mjs';
import {
  backingServiceViolations,
  parseTerraform,
  terraformViolations,
  tofuFmtProblems,
} from './lib/terraform.mjs';
import { exportedMetrics, metricViolations, promtool, ruleGroups } from './lib/prometheus.mjs';
import {
  cloudbuildViolations,
  envKeys,
  pipelineTerraformViolations,
  workflowViolations,
} from './lib/pipeline.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const schemas = path.resolve(process.env.TASKIT_SCHEMAS_DIR ?? path.join(here, 'schemas'));
const file = (relative) => path.join(repo, relative);
const policies = path.join(here, 'policy');
const read = (relative) => readFileSync(file(relative), 'utf8');

const DOCKERFILE_RULES = {
  requiredTargets: ['deps', 'build', 'dev', 'gateway', 'analytics'],
  runtimeTargets: ['gateway', 'analytics'],
};

const runner = createRunner();
/** Rendered objects by overlay name, for the self-tests that break a copy. */
const renders = {};
const tools = {};
const stage = stageDeployTree(repo);

try {
  // ------------------------------------------------------------------ tools
  for (const name of Object.keys(TOOLS)) {
    await runner.check(`tool ${name} ${TOOLS[name].version}`, () => {
      const { path: binary, built } = ensureTool(repo, name);
      tools[name] = binary;
      return built ? `built into ${path.relative(repo, binary)}` : 'cached';
    });
  }
  await runner.check(
    `schemas in ${path.relative(repo, schemas) || schemas} match SHA256SUMS`,
    () => {
      const sums = readFileSync(path.join(schemas, 'SHA256SUMS'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(/\s+/));
      const problems = sums.flatMap(([digest, name]) => {
        const at = path.join(schemas, name);
        if (!existsSync(at)) return [`missing ${name}`];
        const actual = createHash('sha256').update(readFileSync(at)).digest('hex');
        return actual === digest ? [] : [`${name}: sha256 ${actual}, expected ${digest}`];
      });
      for (const needed of ['skaffold/v4beta14.json', 'compose/compose-spec.json'])
        if (!sums.some(([, name]) => name === needed)) problems.push(`SHA256SUMS lacks ${needed}`);
      assertNone(problems);
      return `${sums.length} files`;
    },
  );

  // ------------------------------------------------------------------ Kubernetes
  // Every supported overlay, alone and with each optional component added to it.
  const overlays = { ...OVERLAYS };
  for (const [name, overlay] of Object.entries(OVERLAYS)) {
    for (const component of OPTIONAL_COMPONENTS) {
      const combined = stageCombination(stage.root, overlay.path, component);
      overlays[`${name}+${component}`] = { ...overlay, path: combined };
    }
  }

  for (const [name, overlay] of Object.entries(overlays)) {
    let rendered;
    await runner.check(`kustomize build ${overlay.path}`, () => {
      if (!tools.kustomize) throw new Error('kustomize is not available');
      const text = render(tools.kustomize, stage.root, overlay.path);
      rendered = { file: path.join(stage.root, `${name}.yaml`), objects: parseManifests(text) };
      renders[name] = rendered.objects;
      writeFileSync(rendered.file, text);
      return `${rendered.objects.length} objects`;
    });
    await runner.check(`kubeconform -strict ${name}`, () => {
      if (!rendered || !tools.kubeconform) throw new Error('nothing to validate');
      const { problems, summary } = kubeconform(tools.kubeconform, schemas, rendered.file);
      assertNone(problems);
      const skipped = [
        ...new Set(
          rendered.objects.filter((o) => KINDS_WITHOUT_SCHEMA.includes(o.kind)).map((o) => o.kind),
        ),
      ];
      return `${summary.valid ?? 0} valid${skipped.length ? `, skipped by name (no schema): ${skipped.join(', ')}` : ''}`;
    });
    await runner.check(`policies ${name} (conftest, policy/kubernetes)`, () => {
      if (!rendered || !tools.conftest) throw new Error('nothing to check');
      const { problems, tested } = conftest(
        tools.conftest,
        path.join(policies, 'kubernetes'),
        rendered.file,
        {
          writableRoot: overlay.writableRoot ?? [],
          secretsByReference: !!overlay.secretsByReference,
        },
      );
      assertNone(problems);
      return `${tested} objects`;
    });
    await runner.check(`policies ${name} across objects (lib/k8s.mjs)`, () => {
      if (!rendered) throw new Error('nothing to check');
      assertNone(policyViolations(rendered.objects, overlay));
    });
  }
  await runner.check('deploy/k8s/bootstrap: namespace and deployer Role (conftest)', () => {
    const text = render(tools.kustomize, stage.root, 'deploy/k8s/bootstrap');
    const rendered = path.join(stage.root, 'bootstrap.yaml');
    writeFileSync(rendered, text);
    const problems = ['kubernetes', 'bootstrap'].flatMap(
      (set) => conftest(tools.conftest, path.join(policies, set), rendered).problems,
    );
    const kinds = parseManifests(text).map((o) => o.kind);
    for (const kind of ['Namespace', 'Role'])
      if (!kinds.includes(kind)) problems.push(`deploy/k8s/bootstrap renders no ${kind}`);
    assertNone(problems);
  });

  // ------------------------------------------------------------------ Skaffold, Compose
  await runner.check('skaffold.yaml against skaffold/v4beta14.json', () => {
    const config = readYaml(file('skaffold.yaml'));
    assertNone([
      ...schemaValidator(path.join(schemas, 'skaffold/v4beta14.json'))(config),
      ...skaffoldViolations(config, repo),
    ]);
  });
  await runner.check('docker-compose.yml against compose-spec.json', () => {
    const compose = readYaml(file('docker-compose.yml'));
    assertNone([
      ...schemaValidator(path.join(schemas, 'compose/compose-spec.json'))(compose),
      ...composeViolations(compose, read('.env.example')),
    ]);
  });

  // ------------------------------------------------------------------ Images
  await runner.check('Dockerfile lint', () => {
    const dockerfiles = [
      'Dockerfile',
      ...['gateway', 'analytics'].map((a) => `apps/${a}/Dockerfile`),
    ].filter((f) => existsSync(file(f)));
    if (dockerfiles.length === 0) throw new Error('no Dockerfile');
    assertNone(
      dockerfiles.flatMap((f) =>
        dockerfileViolations(read(f), f === 'Dockerfile' ? DOCKERFILE_RULES : {}).map(
          (p) => `${f}: ${p}`,
        ),
      ),
    );
    return dockerfiles.join(', ');
  });
  await runner.check('.dockerignore is a strict allowlist', () =>
    assertNone(dockerignoreViolations(read('.dockerignore'))),
  );

  // ------------------------------------------------------------------ RabbitMQ, Grafana
  await runner.check('RabbitMQ definitions and config', () => {
    const conf = read('deploy/rabbitmq/rabbitmq.conf');
    const problems = [];
    if (!/^definitions\.local\.path\s*=\s*\/etc\/rabbitmq\/definitions\.d\s*$/m.test(conf))
      problems.push('rabbitmq.conf must import /etc/rabbitmq/definitions.d at boot');
    if (!existsSync(file('deploy/rabbitmq/definitions.json'))) {
      assertNone(problems);
      return 'deploy/rabbitmq/definitions.json absent: only rabbitmq.conf checked';
    }
    problems.push(
      ...rabbitDefinitionsViolations(JSON.parse(read('deploy/rabbitmq/definitions.json'))),
    );
    assertNone(problems);
  });
  await runner.check('Grafana datasource and dashboards', () => {
    const dir = 'deploy/grafana/dashboards';
    const dashboards = readdirSync(file(dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ file: `${dir}/${f}`, dashboard: JSON.parse(read(`${dir}/${f}`)) }));
    assertNone(
      grafanaViolations(
        readYaml(file('deploy/grafana/provisioning/datasources/influxdb.yaml')),
        dashboards,
      ),
    );
    return `${dashboards.length} dashboard(s)`;
  });

  // ------------------------------------------------------------------ Terraform
  await runner.check('tofu fmt -check terraform/', () => {
    if (!tools.tofu) throw new Error('tofu is not available');
    assertNone(tofuFmtProblems(tools.tofu, file('terraform')));
  });
  await runner.check(
    'terraform settings (parsed HCL; validate needs the google provider, see lib/terraform.mjs)',
    async () => {
      const files = readdirSync(file('terraform'));
      assertNone(terraformViolations(await parseTerraform(file('terraform')), files));
    },
  );

  await runner.check(
    'terraform: backing services, secrets, Cloud Armor, deploy settings',
    async () =>
      assertNone(
        backingServiceViolations(await parseTerraform(file('terraform')), {
          tfvarsExample: read('terraform/terraform.tfvars.example'),
          ingress: read('deploy/k8s/overlays/gke/ingress.yaml'),
        }),
      ),
  );

  // ------------------------------------------------------------------ Prometheus
  const rulesFile = file('deploy/prometheus/slo-rules.yaml');
  const rulesTest = file('deploy/prometheus/tests/slo-rules.test.yaml');
  await runner.check('promtool check rules + test rules deploy/prometheus', () => {
    const { problems, summary } = promtool(tools.promtool, ruleGroups(rulesFile), rulesTest);
    assertNone(problems);
    return summary;
  });
  const exported = exportedMetrics(['apps', 'libs'].map(file));
  await runner.check('Prometheus rules and SLO dashboard read exported metrics', () => {
    const groups = ruleGroups(rulesFile);
    const dashboard = JSON.parse(read('deploy/prometheus/dashboards/taskit-slo.json'));
    const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const recorded = new Set(groups.flatMap((g) => g.rules.map((r) => r.record).filter(Boolean)));
    assertNone([
      ...metricViolations(groups, exported),
      ...metricViolations(
        [{ name: 'dashboard', rules: queries.map((expr) => ({ expr, record: 'panel' })) }],
        exported,
      ),
      ...queries
        .flatMap((q) => [...q.matchAll(/taskit:[\w:]+/g)].map((m) => m[0]))
        .filter((r) => !recorded.has(r))
        .map((r) => `dashboard reads ${r}, which no rule records`),
    ]);
    return `${exported.size} exported names`;
  });

  // ------------------------------------------------------------------ workflows
  await runner.check('actionlint .github/workflows', () => {
    const dir = file('.github/workflows');
    const workflows = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    assertNone(
      actionlint(
        tools.actionlint,
        workflows.map((f) => path.join(dir, f)),
      ),
    );
    return workflows.join(', ');
  });

  // ------------------------------------------------------------------ pipeline
  const pipeline = await pipelineInputs();
  await runner.check('cloudbuild.yaml: pinned steps, tests, BuildKit images, gke deploy', () =>
    assertNone(cloudbuildViolations(pipeline.build, pipeline)),
  );
  await runner.check('terraform: trigger, least-privilege build account, review findings', () =>
    assertNone(pipelineTerraformViolations(pipeline.tf, pipeline)),
  );
  await runner.check('.github/workflows/ci.yml: .ci/run on pull requests, pinned actions', () =>
    assertNone(workflowViolations(readYaml(file('.github/workflows/ci.yml')))),
  );

  // ------------------------------------------------------------------ self-tests
  await selfTests({ runner, tools, schemas, file, renders, pipeline, policies, exported, stage });
} finally {
  rmSync(stage.root, { recursive: true, force: true });
}

/** What the pipeline checks compare: cloudbuild.yaml, skaffold.yaml, terraform, the gke overlay. */
async function pipelineInputs() {
  const tf = await parseTerraform(file('terraform'));
  const repos = Object.values(tf.resource?.google_artifact_registry_repository ?? {}).map((r) =>
    Array.isArray(r) ? r[0] : r,
  );
  const immutable = (r) =>
    (Array.isArray(r.docker_config) ? r.docker_config[0] : r.docker_config)?.immutable_tags;
  return {
    tf,
    build: readYaml(file('cloudbuild.yaml')),
    skaffold: readYaml(file('skaffold.yaml')),
    registry: {
      images: repos.find(immutable)?.repository_id,
      cache: repos.find((r) => !immutable(r))?.repository_id,
    },
    settingsKeys: envKeys(read('deploy/k8s/overlays/gke/settings.env')),
    namespace: readYaml(file('deploy/k8s/overlays/gke/kustomization.yaml')).namespace,
    gitignore: read('terraform/.gitignore'),
    tfvarsExample: read('terraform/terraform.tfvars.example'),
  };
}

process.exitCode = runner.summary() > 0 ? 1 : 0;
