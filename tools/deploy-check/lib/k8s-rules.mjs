// Rules on rendered objects beyond the pod basics (lib/k8s.mjs): network policy peers,
// where metrics are scraped, and the paths images write under a read-only root.
/** `Kind/name` of a rendered object. */
export const key = (o) => `${o.kind}/${o.metadata?.name}`;

/** A non-empty `matchLabels` selector that selects these labels. */
export const matches = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  Object.keys(selector?.matchLabels ?? {}).length > 0;

/**
 * Every rule names its peers (no `to`/`from` admits any address on those ports), and an
 * in-namespace pod selector must select pods this overlay renders.
 */
export function networkPolicyViolations(policies, workloads) {
  const problems = [];
  for (const p of policies) {
    const rules = [
      ...(p.spec?.ingress ?? []).map((r) => ({ peers: r.from, dir: 'ingress', field: 'from' })),
      ...(p.spec?.egress ?? []).map((r) => ({ peers: r.to, dir: 'egress', field: 'to' })),
    ];
    for (const { peers, dir, field } of rules) {
      if (!(peers?.length > 0)) {
        problems.push(`${key(p)}: an ${dir} rule without ${field} admits every address`);
        continue;
      }
      for (const peer of peers) {
        if (!peer.podSelector || peer.namespaceSelector) continue;
        const selects = workloads.some((w) => {
          const labels = w.spec.template.metadata?.labels ?? {};
          const byLabels = matches(peer.podSelector, labels);
          const byExpressions = (peer.podSelector.matchExpressions ?? []).every(
            (e) => e.operator === 'In' && e.values.includes(labels[e.key]),
          );
          return peer.podSelector.matchLabels ? byLabels : byExpressions;
        });
        if (!selects)
          problems.push(
            `${key(p)}: ${dir} peer ${JSON.stringify(peer.podSelector)} selects no pod`,
          );
      }
    }
  }
  return problems;
}

/**
 * Where each image writes at run time: with a read-only root filesystem every one of these
 * paths needs a volume, or the process fails at boot.
 */
const WRITABLE_PATHS = {
  rabbitmq: ['/var/lib/rabbitmq', '/var/log/rabbitmq', '/tmp'],
  mongo: ['/data/db', '/data/configdb', '/tmp'],
  redis: ['/data'],
  influxdb: ['/var/lib/influxdb2', '/etc/influxdb2'],
  'grafana/grafana': ['/var/lib/grafana', '/tmp'],
  telegraf: ['/tmp'],
};

export function writablePathViolations(at, c) {
  if (c.securityContext?.readOnlyRootFilesystem !== true) return [];
  const repository = (c.image ?? '').split(/[:@]/)[0];
  const mounted = (c.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => m.mountPath);
  return (WRITABLE_PATHS[repository] ?? [])
    .filter((p) => !mounted.includes(p))
    .map(
      (p) => `${at}: read-only root filesystem but ${p} (written by ${repository}) has no volume`,
    );
}

/** The container port a Service port leads to on a pod (by name or number). */
function containerPort(pod, target) {
  const ports = pod.containers.flatMap((c) => c.ports ?? []);
  return ports.find((p) => p.name === target || p.containerPort === target)?.containerPort;
}

/** Metrics are scraped on a port the pods have and that no Ingress backend reaches. */
export function scrapeViolations(objects, deployments) {
  const problems = [];
  const services = objects.filter((o) => o.kind === 'Service');
  const podsOf = (selects) =>
    deployments.filter((d) => selects(d.spec.template.metadata.labels ?? {}));
  const routed = new Map();
  for (const ing of objects.filter((o) => o.kind === 'Ingress')) {
    for (const p of (ing.spec.rules ?? []).flatMap((r) => r.http?.paths ?? [])) {
      const svc = services.find((s) => s.metadata.name === p.backend?.service?.name);
      const port = svc?.spec.ports.find(
        (sp) =>
          sp.name === p.backend.service.port?.name || sp.port === p.backend.service.port?.number,
      );
      if (!port) continue;
      for (const d of podsOf((l) =>
        Object.entries(svc.spec.selector ?? {}).every(([k, v]) => l[k] === v),
      ))
        routed.set(
          d.metadata.name,
          containerPort(d.spec.template.spec, port.targetPort ?? port.port),
        );
    }
  }
  for (const pm of objects.filter((o) => o.kind === 'PodMonitoring')) {
    const expressions = pm.spec?.selector?.matchExpressions ?? [];
    const selected = podsOf(
      (l) =>
        matches(pm.spec.selector, l) ||
        (expressions.length > 0 &&
          expressions.every((e) => e.operator === 'In' && e.values.includes(l[e.key]))),
    );
    for (const d of selected) {
      for (const e of pm.spec.endpoints ?? []) {
        const port = containerPort(d.spec.template.spec, e.port);
        if (port === undefined)
          problems.push(`${key(pm)}: Deployment/${d.metadata.name} has no port ${e.port}`);
        else if (routed.get(d.metadata.name) === port)
          problems.push(
            `${key(pm)}: scrapes port ${port} of Deployment/${d.metadata.name}, which the Ingress routes (metrics would be public)`,
          );
      }
    }
  }
  return problems;
}
