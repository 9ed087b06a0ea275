// Rules that join rendered objects (lib/k8s.mjs): network policy peers that select pods,
// and metrics scraped on a port no Ingress routes.
/** `Kind/name` of a rendered object. */
export const key = (o) => `${o.kind}/${o.metadata?.name}`;

/** A non-empty `matchLabels` selector that selects these labels. */
export const matches = (selector, labels) =>
  Object.entries(selector?.matchLabels ?? {}).every(([k, v]) => labels?.[k] === v) &&
  Object.keys(selector?.matchLabels ?? {}).length > 0;

/**
 * An in-namespace pod selector of a rule must select pods this overlay renders (a rule
 * without peers is refused per object, in policy/kubernetes).
 */
export function networkPolicyViolations(policies, workloads) {
  const problems = [];
  for (const p of policies) {
    const rules = [
      ...(p.spec?.ingress ?? []).map((r) => ({ peers: r.from, dir: 'ingress' })),
      ...(p.spec?.egress ?? []).map((r) => ({ peers: r.to, dir: 'egress' })),
    ];
    for (const { peers, dir } of rules) {
      for (const peer of peers ?? []) {
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
