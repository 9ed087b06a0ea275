// Self-tests of the deploy checks: each checker must reject a broken input (a fixture in
// fixtures/, or a broken copy of the real files), so that a checker that silently stopped
// checking cannot pass.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { stringify } from 'yaml';
import { actionlint } from './lib/harness.mjs';
import { conftest, kubeconform, OVERLAYS, parseManifests, policyViolations } from './lib/k8s.mjs';
import { metricViolations, promtool, ruleGroups } from './lib/prometheus.mjs';
import {
  cloudbuildViolations,
  pipelineTerraformViolations,
  workflowViolations,
} from './lib/pipeline.mjs';
import {
  backingServiceViolations,
  parseTerraform,
  terraformViolations,
  tofuFmtProblems,
} from './lib/terraform.mjs';

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

export async function selfTests({
  runner,
  tools,
  schemas,
  file,
  renders,
  pipeline,
  policies,
  exported,
  stage,
}) {
  const fixture = (name) => path.join(fixtures, name);
  /** conftest on objects written to a scratch file. */
  const conftestObjects = (objects, set, data) => {
    const at = path.join(stage.root, `self-test-${set}.yaml`);
    writeFileSync(at, objects.map((o) => stringify(o)).join('---\n'));
    return conftest(tools.conftest, path.join(policies, set), at, data).problems;
  };
  await runner.check('self-test: kubeconform rejects a schema-invalid manifest', () =>
    expectRejected(
      kubeconform(tools.kubeconform, schemas, fixture('k8s-schema-invalid.yaml')).problems,
      ['replica', 'containerPort'],
    ),
  );
  await runner.check('self-test: conftest rejects a careless Deployment (policy/kubernetes)', () =>
    expectRejected(
      conftest(
        tools.conftest,
        path.join(policies, 'kubernetes'),
        fixture('k8s-policy-violations.yaml'),
      ).problems,
      [
        'needs a readinessProbe',
        'needs a memory limit',
        'runAsNonRoot',
        'readOnlyRootFilesystem',
        'drop ALL',
        'sets spec.replicas',
        'topology.kubernetes.io/zone',
        'nginx:latest must be pinned',
        '/var/log/rabbitmq (written by rabbitmq) has no volume',
        'egress rule without to admits every address',
        'restricted Pod Security Standard',
        'automountServiceAccountToken',
      ],
    ),
  );
  await runner.check('self-test: cross-object policies reject the same fixture (lib/k8s.mjs)', () =>
    expectRejected(
      policyViolations(
        parseManifests(readFileSync(fixture('k8s-policy-violations.yaml'), 'utf8')),
        OVERLAYS.dev,
      ),
      [
        'needs exactly one autoscaler',
        'PodDisruptionBudget',
        'not rendered',
        'default deny-all',
        'not elsewhere',
        'selects no pod',
      ],
    ),
  );
  await runner.check(
    'self-test: policies reject public metrics, open egress and a Secret in gke',
    () => {
      const objects = structuredClone(renders.gke ?? []);
      for (const o of objects) {
        if (o.kind === 'PodMonitoring' && o.metadata.name === 'taskit')
          o.spec.endpoints[0].port = 'http';
        if (o.metadata.name === 'managed-gateway-to-redis') delete o.spec.egress[0].to;
        if (o.metadata.name === 'managed-gateway-to-mongodb')
          o.spec.egress[0].to = [
            { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mongodb' } } },
          ];
        if (o.metadata.name === 'allow-gateway-to-rabbitmq')
          o.spec.egress[0].to = [{ ipBlock: { cidr: '0.0.0.0/0' } }];
      }
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'leaked' } });
      return expectRejected(
        [
          ...policyViolations(objects, OVERLAYS.gke),
          ...conftestObjects(objects, 'kubernetes', { secretsByReference: true }),
        ],
        [
          'metrics would be public',
          'managed-gateway-to-redis: an egress rule without to',
          'managed-gateway-to-mongodb: egress peer',
          'allow-gateway-to-rabbitmq: egress to 0.0.0.0/0',
          'Secret/leaked: this overlay must reference secrets',
        ],
      );
    },
  );
  await runner.check('self-test: conftest rejects a greedy deployer Role (policy/bootstrap)', () =>
    expectRejected(
      conftest(tools.conftest, path.join(policies, 'bootstrap'), fixture('deployer-role-bad.yaml'))
        .problems,
      [
        'may not grant secrets',
        'may not grant pods/exec',
        'wildcards',
        'may not escalate',
        'read-only',
      ],
    ),
  );
  await runner.check('self-test: promtool fails a rules test whose expectation is wrong', () => {
    const testFile = file('deploy/prometheus/tests/slo-rules.test.yaml');
    // The first test expects the fast-burn page; claim instead that nothing fires.
    const broken = readFileSync(testFile, 'utf8').replace(
      /(alertname: SLOBurnApiAvailability1h\n\s*exp_alerts:)\n(\s*- exp_labels:[\s\S]*?runbook: [^\n]*)/,
      '$1 []',
    );
    if (broken === readFileSync(testFile, 'utf8')) throw new Error('could not break the test file');
    return expectRejected(
      promtool(
        tools.promtool,
        ruleGroups(file('deploy/prometheus/slo-rules.yaml')),
        testFile,
        broken,
      ).problems,
      ['SLOBurnApiAvailability1h'],
    );
  });
  await runner.check('self-test: the metric check rejects a name nobody exports', () =>
    expectRejected(
      metricViolations(
        [
          { name: 'g', rules: [{ alert: 'A', expr: 'rate(taskit_made_up_total[5m]) > 0' }] },
          {
            name: 'g',
            rules: [{ alert: 'B', expr: 'sum by (route) (http_request_duration_seconds_count)' }],
          },
        ],
        exported,
        { http_request_duration_seconds: 'already exported' },
      ),
      ['reads taskit_made_up_total', 'http_request_duration_seconds is exported now'],
    ),
  );
  await runner.check('self-test: actionlint rejects a broken workflow', () =>
    expectRejected(actionlint(tools.actionlint, [fixture('workflow-actionlint-bad.yml')]), [
      'evnt',
      'needs',
      'ubuntu-lastest',
    ]),
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
      'tagged with ${_TAG}',
      'must deploy the gke profile',
      'must wait for the rollout',
      'does not copy settings.env',
      '_TAG must default',
      '_DB_PASSWORD looks like a secret',
      '_MONGODB_URI looks like a secret',
      "_REPOSITORY other is not terraform's",
      'CLOUD_LOGGING_ONLY',
    ]),
  );
  await runner.check('self-test: terraform pipeline check rejects a broad, racing setup', () => {
    const tf = structuredClone(pipeline.tf);
    const r = tf.resource;
    r.google_project_iam_member.cloudbuild[0].for_each = {
      deployer: 'roles/container.developer',
      custom: '${google_project_iam_custom_role.deployer.id}',
    };
    r.google_project_iam_custom_role.deployer[0].permissions.push('container.secrets.get');
    r.google_cloudbuild_trigger.deploy[0].count = 1;
    r.google_compute_router_nat.nat[0].nat_ip_allocate_option = 'AUTO_ONLY';
    delete r.google_service_account.nodes[0].depends_on;
    delete r.google_cloudbuild_trigger.deploy[0].substitutions._CLUSTER;
    tf.variable.cluster_name[0].validation[0].condition =
      '${can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.cluster_name))}';
    return expectRejected(
      pipelineTerraformViolations(tf, {
        ...pipeline,
        namespace: 'elsewhere',
        gitignore: '.terraform.lock.hcl',
        tfvarsExample: 'github_owner = "my-org"',
      }),
      [
        'may not hold roles/container.developer',
        'may only container.clusters.get',
        'must wait for github_owner',
        'must leave github_owner empty',
        'MANUAL_ONLY',
        'google_service_account.nodes must depend',
        'does not set _CLUSTER',
        '"${cluster_name}-nodes" must fit 30',
        "gke overlay's namespace elsewhere",
        'must not ignore .terraform.lock.hcl',
      ],
    );
  });
  await runner.check('self-test: backing-service check rejects plain-text, evicting Redis', () => {
    const tf = structuredClone(pipeline.tf);
    const r = tf.resource;
    delete r.google_redis_instance.taskit[0].transit_encryption_mode;
    const redis = tf.locals
      .map((l) => (Array.isArray(l) ? l[0] : l))
      .find((l) => l.redis_instances);
    redis.redis_instances.sessions.policy = 'volatile-lru';
    r.google_compute_security_policy.gateway[0].rule = [];
    delete r.google_service_networking_connection;
    return expectRejected(
      backingServiceViolations(tf, {
        tfvarsExample: 'influx_url = "https://europe-west1-1.gcp.cloud2.influxdata.com"',
        ingress: '',
      }),
      [
        'SERVER_AUTHENTICATION',
        'noeviction',
        'rate-based rule',
        'google_service_networking_connection',
        'securityPolicy',
        'InfluxDB Cloud region',
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
