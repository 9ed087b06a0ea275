// Kubernetes: render the overlays with kustomize, validate every object against the
// strict standalone schemas with kubeconform, and apply Taskit's policies.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { CheckFailure, run, runOk } from './harness.mjs';
import { key, matches, networkPolicyViolations, scrapeViolations } from './k8s-rules.mjs';

export const KUBERNETES_VERSION = '1.32.2';

/** Overlays rendered by the checks, with the HPA bounds each must carry. */
export const OVERLAYS = {
  dev: {
    path: 'deploy/k8s/overlays/dev',
    hpa: { gateway: [2, 10], analytics: [1, 6], telegraf: [1, 3] },
  },
  'dev-watch': {
    path: 'deploy/k8s/overlays/dev-watch',
    // One watcher per service (components/watch-mode).
    hpa: { gateway: [1, 1], analytics: [1, 1], telegraf: [1, 3] },
    // The skaffold dev loop syncs sources into these two containers (components/watch-mode).
    writableRoot: ['gateway', 'analytics'],
  },
  gke: {
    path: 'deploy/k8s/overlays/gke',
    hpa: { gateway: [3, 10], analytics: [2, 6], telegraf: [1, 3], 'otel-collector': [2, 4] },
    secretsByReference: true,
    // Pods of the namespace that deploy/k8s/bootstrap creates (the RabbitMQ cluster).
    bootstrapPods: [{ 'app.kubernetes.io/name': 'rabbitmq' }],
  },
};

/**
 * Custom resources: no schema for them in tools/deploy-check/schemas, so kubeconform skips them by
 * name (listed here, printed by the check) and the policies below check what matters.
 */
export const KINDS_WITHOUT_SCHEMA = [
  'ManagedCertificate',
  'BackendConfig',
  'FrontendConfig',
  'PodMonitoring',
  'ScaledObject',
  'TriggerAuthentication',
  'SecretProviderClass',
  'FQDNNetworkPolicy',
  'RabbitmqCluster',
  'Rules',
];

/** Copies deploy/ to a scratch dir, where the checks add overlay × component combinations. */
export function stageDeployTree(repoRoot) {
  const stage = mkdtempSync(path.join(tmpdir(), 'deploy-check-render-'));
  cpSync(path.join(repoRoot, 'deploy'), path.join(stage, 'deploy'), { recursive: true });
  return { root: stage };
}

/** Optional components a user may add to any overlay; CI renders each combination. */
export const OPTIONAL_COMPONENTS = ['keda'];

/**
 * Copies an overlay to deploy/k8s/overlays/<name>+<component> in the stage with the
 * component appended to its components list, as a user would add it; returns the path.
 */
export function stageCombination(stage, overlayPath, component) {
  const dir = `${overlayPath}+${component}`;
  cpSync(path.join(stage, overlayPath), path.join(stage, dir), { recursive: true });
  const file = path.join(stage, dir, 'kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8'));
  kustomization.components = [...(kustomization.components ?? []), `../../components/${component}`];
  writeFileSync(file, stringify(kustomization));
  return dir;
}

export function render(kustomize, root, overlayPath) {
  // The default load restrictor, as kubectl apply -k, Argo CD and Flux use it.
  return runOk(kustomize, ['build', path.join(root, overlayPath)]);
}

export function parseManifests(text) {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new CheckFailure(doc.errors.map(String));
      return doc.toJS();
    })
    .filter(Boolean);
}

/** kubeconform -strict over a multi-document file; returns the list of problems. */
export function kubeconform(binary, schemasDir, file) {
  const location = `${schemasDir}/kubernetes/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
  const result = run(binary, [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-kubernetes-version',
    KUBERNETES_VERSION,
    '-schema-location',
    location,
    '-skip',
    KINDS_WITHOUT_SCHEMA.join(','),
    file,
  ]);
  const report = JSON.parse(result.stdout || '{}');
  const problems = (report.resources ?? [])
    .filter((r) => r.status !== 'statusValid' && r.status !== 'statusSkipped')
    .map((r) => `${r.kind}/${r.name}: ${r.msg}`);
  if (result.status !== 0 && problems.length === 0)
    problems.push(result.stderr.trim() || `kubeconform exited ${result.status}`);
  return { problems, summary: report.summary ?? {} };
}

/**
 * Taskit's policies that join objects of one rendered overlay (an autoscaler and a
 * PodDisruptionBudget per Deployment, references, network peers, scrape ports, one
 * namespace); the per-object ones are Rego (policy/kubernetes, run by conftest below).
 */
export function policyViolations(objects, overlay) {
  const problems = [];
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  const deployments = byKind('Deployment');
  const workloads = [...deployments, ...byKind('StatefulSet')];
  const hpas = byKind('HorizontalPodAutoscaler');
  const scaledObjects = byKind('ScaledObject');
  const pdbs = byKind('PodDisruptionBudget');

  for (const d of deployments) {
    const name = d.metadata.name;
    const own = hpas.filter(
      (h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === name,
    );
    const keda = scaledObjects.filter(
      (s) =>
        (s.spec?.scaleTargetRef?.kind ?? 'Deployment') === 'Deployment' &&
        s.spec?.scaleTargetRef?.name === name,
    );
    const expected = overlay.hpa?.[name];
    if (own.length + keda.length !== 1) {
      problems.push(
        `Deployment/${name}: needs exactly one autoscaler of its own, found ${own.length} HPA and ${keda.length} ScaledObject`,
      );
    } else if (own.length === 1) {
      const h = own[0];
      if (h.apiVersion !== 'autoscaling/v2')
        problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: must be autoscaling/v2`);
      if (!h.spec.behavior?.scaleUp || !h.spec.behavior?.scaleDown)
        problems.push(
          `HorizontalPodAutoscaler/${h.metadata.name}: behavior.scaleUp and behavior.scaleDown must be set`,
        );
      const cpu = (h.spec.metrics ?? []).some(
        (m) =>
          m.type === 'Resource' &&
          m.resource?.name === 'cpu' &&
          m.resource?.target?.type === 'Utilization',
      );
      if (!cpu)
        problems.push(`HorizontalPodAutoscaler/${h.metadata.name}: needs a CPU utilization target`);
      if (!expected)
        problems.push(`Deployment/${name}: no expected replica bounds for it in the checks`);
      else if (h.spec.minReplicas !== expected[0] || h.spec.maxReplicas !== expected[1]) {
        problems.push(
          `HorizontalPodAutoscaler/${h.metadata.name}: replicas ${h.spec.minReplicas}-${h.spec.maxReplicas}, expected ${expected[0]}-${expected[1]}`,
        );
      }
    } else {
      const s = keda[0];
      const behavior = s.spec.advanced?.horizontalPodAutoscalerConfig?.behavior;
      if (!behavior?.scaleUp || !behavior?.scaleDown)
        problems.push(
          `ScaledObject/${s.metadata.name}: behavior.scaleUp and behavior.scaleDown must be set`,
        );
      if (
        expected &&
        (s.spec.minReplicaCount !== expected[0] || s.spec.maxReplicaCount !== expected[1])
      ) {
        problems.push(
          `ScaledObject/${s.metadata.name}: replicas ${s.spec.minReplicaCount}-${s.spec.maxReplicaCount}, expected ${expected[0]}-${expected[1]}`,
        );
      }
    }
  }

  for (const h of [...hpas, ...scaledObjects]) {
    const target = h.spec?.scaleTargetRef;
    if (!deployments.some((d) => d.metadata.name === target?.name))
      problems.push(`${key(h)}: targets ${target?.kind}/${target?.name}, which is not rendered`);
  }

  for (const w of workloads) {
    const labels = w.spec.template.metadata?.labels;
    if (w.kind === 'Deployment') {
      const own = pdbs.filter((p) => matches(p.spec?.selector, labels));
      if (own.length !== 1)
        problems.push(
          `${key(w)}: needs exactly one PodDisruptionBudget selecting its pods, found ${own.length}`,
        );
    }
  }

  problems.push(...referenceViolations(objects, overlay));
  problems.push(...scrapeViolations(objects, deployments));

  if (
    !byKind('NetworkPolicy').some(
      (p) =>
        Object.keys(p.spec?.podSelector ?? {}).length === 0 &&
        p.spec.policyTypes?.includes('Ingress') &&
        p.spec.policyTypes?.includes('Egress') &&
        !p.spec.ingress &&
        !p.spec.egress,
    )
  ) {
    problems.push('NetworkPolicy: no default deny-all (ingress and egress) policy');
  }
  // The RabbitMQ Cluster Operator makes the pods of a RabbitmqCluster, labelled with its name.
  const operated = [
    ...byKind('RabbitmqCluster').map((r) => ({ 'app.kubernetes.io/name': r.metadata.name })),
    ...(overlay.bootstrapPods ?? []),
  ].map((labels) => ({ kind: 'Pod', spec: { template: { metadata: { labels } } } }));
  problems.push(...networkPolicyViolations(byKind('NetworkPolicy'), [...workloads, ...operated]));
  const namespaces = byKind('Namespace').map((ns) => ns.metadata.name);
  for (const o of objects.filter((o) => o.kind !== 'Namespace')) {
    if (namespaces.length === 1 && o.metadata?.namespace !== namespaces[0])
      problems.push(`${key(o)}: in namespace ${o.metadata?.namespace}, not ${namespaces[0]}`);
  }
  return problems;
}

/** Every Service selects a workload; every referenced ConfigMap/Secret/ServiceAccount exists. */
function referenceViolations(objects, overlay) {
  const problems = [];
  const names = (kind) =>
    new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata.name));
  const configMaps = names('ConfigMap');
  const secrets = names('Secret');
  const serviceAccounts = names('ServiceAccount');
  const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');

  for (const svc of objects.filter((o) => o.kind === 'Service')) {
    const selected = workloads.filter((w) =>
      Object.entries(svc.spec.selector ?? {}).every(
        ([k, v]) => w.spec.template.metadata.labels?.[k] === v,
      ),
    );
    if (selected.length === 0) problems.push(`${key(svc)}: selects no workload`);
  }
  for (const w of workloads) {
    const pod = w.spec.template.spec;
    const needSecret = (name, at) => {
      if (!overlay.secretsByReference && !secrets.has(name))
        problems.push(`${key(w)}: ${at} references missing Secret/${name}`);
    };
    if (pod.serviceAccountName && !serviceAccounts.has(pod.serviceAccountName))
      problems.push(`${key(w)}: missing ServiceAccount/${pod.serviceAccountName}`);
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef && !configMaps.has(from.configMapRef.name))
          problems.push(
            `${key(w)}: envFrom references missing ConfigMap/${from.configMapRef.name}`,
          );
        if (from.secretRef) needSecret(from.secretRef.name, 'envFrom');
      }
      for (const env of c.env ?? []) {
        if (env.valueFrom?.secretKeyRef)
          needSecret(env.valueFrom.secretKeyRef.name, `env ${env.name}`);
        if (env.valueFrom?.configMapKeyRef && !configMaps.has(env.valueFrom.configMapKeyRef.name))
          problems.push(`${key(w)}: env ${env.name} references missing ConfigMap`);
      }
    }
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !configMaps.has(v.configMap.name))
        problems.push(
          `${key(w)}: volume ${v.name} references missing ConfigMap/${v.configMap.name}`,
        );
    }
  }
  for (const auth of objects.filter((o) => o.kind === 'TriggerAuthentication')) {
    for (const ref of auth.spec?.secretTargetRef ?? []) {
      if (!overlay.secretsByReference && !secrets.has(ref.name))
        problems.push(`${key(auth)}: references missing Secret/${ref.name}`);
    }
  }
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    for (const rule of ing.spec.rules ?? []) {
      for (const p of rule.http?.paths ?? []) {
        const svc = objects.find(
          (o) => o.kind === 'Service' && o.metadata.name === p.backend?.service?.name,
        );
        const port = p.backend?.service?.port;
        if (
          !svc ||
          !svc.spec.ports.some((sp) => sp.name === port?.name || sp.port === port?.number)
        ) {
          problems.push(
            `${key(ing)}: backend ${p.backend?.service?.name}:${port?.name ?? port?.number} does not exist`,
          );
        }
      }
    }
  }
  return problems;
}

/**
 * conftest over a rendered overlay: the per-object policies of policy/<namespace>, with
 * the overlay's differences as data.taskit. Returns the failures, one line each.
 */
export function conftest(binary, policyDir, file, data = {}) {
  const scratch = mkdtempSync(path.join(tmpdir(), 'deploy-check-conftest-'));
  const dataFile = path.join(scratch, 'data.json');
  writeFileSync(dataFile, JSON.stringify({ taskit: data }));
  const namespace = path.basename(policyDir);
  const result = run(binary, [
    'test',
    '--no-color',
    '--output=json',
    `--policy=${policyDir}`,
    `--namespace=${namespace}`,
    `--data=${dataFile}`,
    file,
  ]);
  let report;
  try {
    report = JSON.parse(result.stdout);
  } catch {
    throw new CheckFailure([`conftest exited ${result.status}`, result.stderr.trim()]);
  }
  const problems = report.flatMap((r) => (r.failures ?? []).map((f) => f.msg));
  const tested = report.reduce((n, r) => n + (r.successes ?? 0) + (r.failures?.length ?? 0), 0);
  if (result.status !== 0 && problems.length === 0)
    problems.push(result.stderr.trim() || `conftest exited ${result.status}`);
  return { problems, tested };
}
