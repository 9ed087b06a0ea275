// Self-tests of the deploy checks: each checker must reject a broken input (a fixture in
// fixtures/, or a broken copy of the real files), so that a checker that silently stopped
// checking cannot pass.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dockerfileViolations,
  composeViolations,
  grafanaViolations,
  rabbitDefinitionsViolations,
  readYaml,
  schemaValidator,
} from './lib/files.mjs';
import { kubeconform, OVERLAYS, parseManifests, policyViolations } from './lib/k8s.mjs';
import {
  cloudbuildViolations,
  pipelineTerraformViolations,
  workflowViolations,
} from './lib/pipeline.mjs';
import { parseTerraform, terraformViolations, tofuFmtProblems } from './lib/terraform.mjs';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

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

export async function selfTests({ runner, tools, schemas, file, renders, pipeline }) {
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
  await runner.check('self-test: cloudbuild check rejects an unpinned, untested pipeline', () =>
    expectRejected(cloudbuildViolations(readYaml(fixture('cloudbuild-bad.yaml')), pipeline), [
      'image node must be pinned',
      'docker:latest must be pinned',
      'unknown step missing-step',
      'the unit tests',
      'buildx needs --cache-from',
      'tagged with ${COMMIT_SHA}',
      'must deploy the gke profile',
      'must wait for the rollout',
      'does not write gke setting DOMAIN',
      '_DB_PASSWORD looks like a secret',
      '_MONGODB_URI looks like a secret',
      "_REPOSITORY other is not terraform's",
      'CLOUD_LOGGING_ONLY',
    ]),
  );
  await runner.check('self-test: terraform pipeline check rejects a broad, racing setup', () => {
    const tf = structuredClone(pipeline.tf);
    const r = tf.resource;
    r.google_project_iam_member.cloudbuild[0].for_each = '${toset(["roles/editor"])}';
    r.google_compute_router_nat.nat[0].nat_ip_allocate_option = 'AUTO_ONLY';
    delete r.google_service_account.nodes[0].depends_on;
    delete r.google_cloudbuild_trigger.deploy[0].substitutions._DOMAIN;
    tf.variable.cluster_name[0].validation[0].condition =
      '${can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.cluster_name))}';
    return expectRejected(
      pipelineTerraformViolations(tf, {
        ...pipeline,
        namespace: 'elsewhere',
        gitignore: '.terraform.lock.hcl',
      }),
      [
        'may not hold roles/editor',
        'MANUAL_ONLY',
        'google_service_account.nodes must depend',
        'does not set _DOMAIN',
        '"${cluster_name}-nodes" must fit 30',
        "gke overlay's namespace elsewhere",
        'must not ignore .terraform.lock.hcl',
      ],
    );
  });
  await runner.check('self-test: workflow check rejects an unpinned push-only workflow', () =>
    expectRejected(workflowViolations(readYaml(fixture('workflow-bad.yml'))), [
      'must run on pull_request',
      'read-only top-level permissions',
      'no step runs .ci/run',
      'actions/checkout@v4 must be pinned',
      'container node:latest must be pinned',
      'timeout-minutes',
    ]),
  );
}
