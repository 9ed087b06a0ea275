#!/usr/bin/env node
// Static checks of Taskit's delivery files (issue #6): nothing here needs Docker, a
// cluster or a cloud account. Usage: node tools/deploy-check/check.mjs
// Schemas: tools/deploy-check/schemas (sources and licences in its SOURCES.md), or
// $TASKIT_SCHEMAS_DIR.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertNone, createRunner } from './lib/harness.mjs';
import { ensureTool, TOOLS } from './lib/tools.mjs';
import {
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
import { parseTerraform, terraformViolations, tofuFmtProblems } from './lib/terraform.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const fixtures = path.join(here, 'fixtures');
const schemas = path.resolve(process.env.TASKIT_SCHEMAS_DIR ?? path.join(here, 'schemas'));
const file = (relative) => path.join(repo, relative);
const read = (relative) => readFileSync(file(relative), 'utf8');

const DOCKERFILE_RULES = {
  requiredTargets: ['deps', 'build', 'dev', 'gateway', 'analytics'],
  runtimeTargets: ['gateway', 'analytics'],
};

/** A self-test passes when the checker reports every expected problem for a broken input. */
function expectRejected(problems, expected) {
  const missing = expected.filter((text) => !problems.some((p) => p.includes(text)));
  if (missing.length > 0) {
    throw new Error(
      `the checker accepted a broken fixture; not reported: ${missing.join('; ')}\nreported: ${problems.join('; ') || '(nothing)'}`,
    );
  }
  return `rejected (${problems.length} problems)`;
}

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
    await runner.check(`policies ${name}`, () => {
      if (!rendered) throw new Error('nothing to check');
      assertNone(policyViolations(rendered.objects, overlay));
    });
  }

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

  // ------------------------------------------------------------------ self-tests
  const fixture = (name) => path.join(fixtures, name);
  await runner.check('self-test: kubeconform rejects a schema-invalid manifest', () =>
    expectRejected(
      kubeconform(tools.kubeconform, schemas, fixture('k8s-schema-invalid.yaml')).problems,
      ['replica', 'containerPort'],
    ),
  );
  await runner.check('self-test: policies reject a careless Deployment', () =>
    expectRejected(
      policyViolations(
        parseManifests(readFileSync(fixture('k8s-policy-violations.yaml'), 'utf8')),
        OVERLAYS.dev,
      ),
      [
        'needs exactly one autoscaler',
        'PodDisruptionBudget',
        'needs a readinessProbe',
        'needs a memory limit',
        'runAsNonRoot',
        'readOnlyRootFilesystem',
        'drop ALL',
        'sets spec.replicas',
        'topology.kubernetes.io/zone',
        'nginx:latest must be pinned',
        'not rendered',
        'default deny-all',
        '/var/log/rabbitmq (written by rabbitmq) has no volume',
        'not elsewhere',
        'egress rule without to admits every address',
        'selects no pod',
      ],
    ),
  );
  await runner.check(
    'self-test: policies reject public metrics and port-only egress in gke',
    () => {
      const objects = structuredClone(renders.gke ?? []);
      for (const o of objects) {
        if (o.kind === 'PodMonitoring') o.spec.endpoints[0].port = 'http';
        if (o.metadata.name === 'allow-gateway-to-redis') delete o.spec.egress[0].to;
        if (o.metadata.name === 'allow-gateway-to-mongodb')
          o.spec.egress[0].to = [
            { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mongodb' } } },
          ];
      }
      return expectRejected(policyViolations(objects, OVERLAYS.gke), [
        'metrics would be public',
        'allow-gateway-to-redis: an egress rule without to',
        'allow-gateway-to-mongodb: egress peer',
      ]);
    },
  );
  await runner.check('self-test: compose checks reject a broken file', () => {
    const compose = readYaml(fixture('compose-invalid.yaml'));
    return expectRejected(
      [
        ...schemaValidator(path.join(schemas, 'compose/compose-spec.json'))(compose),
        ...composeViolations(compose, ''),
      ],
      [
        'intervals',
        'services.app: needs a healthcheck',
        'service_healthy',
        'DB_PASSWORD',
        'node:latest',
      ],
    );
  });
  await runner.check('self-test: skaffold schema rejects unknown keys', () =>
    expectRejected(
      schemaValidator(path.join(schemas, 'skaffold/v4beta14.json'))(
        readYaml(fixture('skaffold-invalid.yaml')),
      ),
      ['must NOT have additional properties'],
    ),
  );
  await runner.check('self-test: Dockerfile lint rejects a careless Dockerfile', () =>
    expectRejected(
      dockerfileViolations(readFileSync(fixture('Dockerfile.bad'), 'utf8'), {
        requiredTargets: ['dev'],
        runtimeTargets: ['runtime'],
      }),
      [
        'node:latest must be pinned',
        'node:24 must be pinned',
        'upper-case AS',
        'stage name Build',
        'use COPY, not ADD',
        'npm ci',
        'exec (JSON) form',
        'must not carry secrets',
        'target runtime runs as root',
        'target dev is missing',
      ],
    ),
  );
  await runner.check('self-test: RabbitMQ definitions check rejects a wrong topology', () =>
    expectRejected(
      rabbitDefinitionsViolations(
        JSON.parse(readFileSync(fixture('definitions-bad.json'), 'utf8')),
      ),
      [
        'durable topic exchange',
        'queue telegraf.task-events is missing',
        'must be a quorum queue',
        'bound to taskit.events',
        'x-dead-letter-exchange',
      ],
    ),
  );
  await runner.check('self-test: Grafana check rejects a dashboard off the contract', () =>
    expectRejected(
      grafanaViolations(readYaml(file('deploy/grafana/provisioning/datasources/influxdb.yaml')), [
        {
          file: 'dashboard-bad.json',
          dashboard: JSON.parse(readFileSync(fixture('dashboard-bad.json'), 'utf8')),
        },
      ]),
      ['another-datasource', 'task_events', 'per minute by type', 'completion rate', 'difference'],
    ),
  );
  await runner.check(
    'self-test: terraform checks reject an unformatted, public, unpinned cluster',
    async () => {
      const dir = fixture('terraform-bad');
      const problems = [
        ...tofuFmtProblems(tools.tofu, dir),
        ...terraformViolations(await parseTerraform(dir), readdirSync(dir)),
      ];
      return expectRejected(problems, [
        'tofu fmt -check',
        'private nodes',
        'Workload Identity',
        'ADVANCED_DATAPATH',
        'must be pinned',
        'network.tf is missing',
      ]);
    },
  );
} finally {
  rmSync(stage.root, { recursive: true, force: true });
}

process.exitCode = runner.summary() > 0 ? 1 : 0;
