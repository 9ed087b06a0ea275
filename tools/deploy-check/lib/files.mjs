// Static checks of the non-Kubernetes delivery files: JSON-schema validation (Skaffold,
// Compose), Dockerfile rules, the RabbitMQ definitions and the Grafana provisioning.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

// ---------------------------------------------------------------- JSON schemas

/**
 * Both schemas are draft-07. strict: false because they carry vendor keywords
 * (x-intellij-html-description, preferredOrder) and union types; the compose schema's
 * own $schema URL is not a meta-schema Ajv knows, hence validateSchema: false.
 */
export function schemaValidator(schemaFile) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
  return (document) =>
    validate(document)
      ? []
      : validate.errors.map(
          (e) =>
            `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
        );
}

export const readYaml = (file) => parseYaml(readFileSync(file, 'utf8'), { merge: true });

// ---------------------------------------------------------------- Compose

const PINNED_IMAGE = /^[\w./-]+(:\d+(\.\d+){1,2}[\w.-]*)?(@sha256:[a-f0-9]{64})?$/;
const isPinned = (image) =>
  /@sha256:[a-f0-9]{64}$/.test(image) || (PINNED_IMAGE.test(image) && /:\d+\.\d+/.test(image));

/** Taskit's rules for docker-compose.yml beyond the schema. */
export function composeViolations(compose, envExample) {
  const problems = [];
  const services = compose.services ?? {};
  for (const name of [
    'mongodb',
    'redis',
    'rabbitmq',
    'influxdb',
    'telegraf',
    'grafana',
    'gateway',
    'analytics',
  ]) {
    if (!services[name]) problems.push(`services.${name} is missing`);
  }
  // A one-shot job (restart: 'no', like influxdb-tokens) runs to completion: no
  // healthcheck; its dependants wait for service_completed_successfully.
  const oneShot = (svc) => svc?.restart === 'no';
  for (const [name, svc] of Object.entries(services)) {
    if (!svc.healthcheck?.test && !oneShot(svc))
      problems.push(`services.${name}: needs a healthcheck`);
    if (svc.build) {
      if (svc.build.context !== '.' || !svc.build.target)
        problems.push(`services.${name}: builds from the root context with a target`);
    } else if (!isPinned(svc.image ?? '')) {
      problems.push(`services.${name}: image ${svc.image} must be pinned to a version`);
    }
    const deps = svc.depends_on ?? {};
    if (Array.isArray(deps))
      problems.push(`services.${name}: depends_on must use condition: service_healthy`);
    for (const [dep, spec] of Object.entries(Array.isArray(deps) ? {} : deps)) {
      if (oneShot(services[dep])) {
        if (spec?.condition !== 'service_completed_successfully')
          problems.push(
            `services.${name}: depends_on.${dep} (one-shot) must use condition: service_completed_successfully`,
          );
        continue;
      }
      if (spec?.condition !== 'service_healthy')
        problems.push(`services.${name}: depends_on.${dep} must use condition: service_healthy`);
      if (!services[dep]?.healthcheck)
        problems.push(`services.${name}: depends on ${dep}, which has no healthcheck`);
    }
    for (const volume of svc.volumes ?? []) {
      const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
      const readOnly = typeof volume === 'string' ? volume.endsWith(':ro') : volume.read_only;
      if (source.startsWith('.') || source.startsWith('/')) {
        if (!readOnly || !source.startsWith('./deploy/'))
          problems.push(
            `services.${name}: host mount ${source} must be a read-only file under ./deploy/`,
          );
      } else if (!(source in (compose.volumes ?? {}))) {
        problems.push(`services.${name}: volume ${source} is not a declared named volume`);
      }
    }
    for (const [variable, value] of Object.entries(svc.environment ?? {})) {
      if (
        /PASSWORD|SECRET|TOKEN/.test(variable) &&
        !/^\$\{[A-Z_]+(:\?[^}]*)?\}$/.test(String(value))
      ) {
        problems.push(
          `services.${name}: ${variable} must come from .env (\${VAR}), not be written in the file`,
        );
      }
    }
  }
  const ports = (svc) => (svc?.ports ?? []).map(String);
  if (!ports(services.gateway).some((p) => p.endsWith('3000:3000')))
    problems.push('services.gateway: must publish port 3000');
  if (!ports(services.grafana).some((p) => p.endsWith('3030:3030')))
    problems.push('services.grafana: must publish port 3030');

  // Every ${VAR} the file reads must be documented in .env.example.
  const documented = new Set([...envExample.matchAll(/^([A-Z_][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  const used = new Set(
    [...JSON.stringify(compose).matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]),
  );
  for (const variable of used)
    if (!documented.has(variable)) problems.push(`\${${variable}} is not in .env.example`);
  return problems;
}

// ---------------------------------------------------------------- Skaffold

export function skaffoldViolations(config, repoRoot) {
  const problems = [];
  const images = (artifacts) =>
    (artifacts ?? [])
      .map((a) => a.image)
      .sort()
      .join(',');
  if (images(config.build?.artifacts) !== 'analytics,gateway')
    problems.push('build.artifacts must be gateway and analytics');
  if (!config.build?.tagPolicy?.gitCommit) problems.push('build.tagPolicy must be gitCommit');
  const profiles = Object.fromEntries((config.profiles ?? []).map((p) => [p.name, p]));
  const dev = profiles.dev;
  if (!dev?.activation?.some((a) => a.command === 'dev'))
    problems.push('profile dev must be activated by the dev command');
  for (const artifact of dev?.build?.artifacts ?? []) {
    if (artifact.docker?.target !== 'dev')
      problems.push(`profile dev: ${artifact.image} must build the dev target`);
    if (!(artifact.sync?.manual ?? []).some((rule) => rule.src.endsWith('.ts')))
      problems.push(`profile dev: ${artifact.image} must sync TypeScript sources`);
  }
  const forwarded = (dev?.portForward ?? []).map((f) => `${f.resourceName}:${f.localPort}`);
  for (const expected of ['gateway:3000', 'grafana:3030'])
    if (!forwarded.includes(expected)) problems.push(`profile dev must port-forward ${expected}`);
  if (!profiles.gke) problems.push('profile gke is missing');
  else if (profiles.gke.build?.tagPolicy?.gitCommit?.variant !== 'CommitSha')
    problems.push('profile gke must tag with the full commit (gitCommit variant CommitSha)');
  if (JSON.stringify(config).includes('load-restrictor'))
    problems.push('kustomize must render without --load-restrictor (kubectl apply -k, Argo CD)');
  const kustomizations = [
    config.manifests,
    ...Object.values(profiles).map((p) => p.manifests),
  ].flatMap((m) => m?.kustomize?.paths ?? []);
  for (const p of kustomizations)
    if (!existsSync(path.join(repoRoot, p, 'kustomization.yaml')))
      problems.push(`kustomize path ${p} does not exist`);
  return problems;
}

// ---------------------------------------------------------------- Dockerfile

/** Splits a Dockerfile into instructions (continuations joined, comments dropped). */
export function parseDockerfile(text) {
  const instructions = [];
  let buffer = '';
  let line = 0;
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.trim();
    if (buffer === '' && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (buffer !== '' && trimmed.startsWith('#')) return;
    if (buffer === '') line = index + 1;
    buffer += (buffer ? ' ' : '') + trimmed.replace(/\\$/, '').trim();
    if (!trimmed.endsWith('\\')) {
      const [keyword, ...rest] = buffer.split(/\s+/);
      instructions.push({ keyword, upper: keyword.toUpperCase(), args: rest.join(' '), line });
      buffer = '';
    }
  });
  return instructions;
}

/**
 * Rules that matter for these images (hadolint is not available here): pinned bases,
 * consistent casing, no ADD, npm ci with a cache mount, exec-form commands, no secrets
 * baked into ENV/ARG, the required targets, and a non-root user in each runtime target.
 */
export function dockerfileViolations(text, { requiredTargets = [], runtimeTargets = [] } = {}) {
  const problems = [];
  const instructions = parseDockerfile(text);
  const stages = new Map();
  let current = null;
  for (const ins of instructions) {
    const at = `line ${ins.line}`;
    if (ins.keyword !== ins.upper)
      problems.push(`${at}: instruction ${ins.keyword} must be upper case`);
    if (ins.upper === 'FROM') {
      const match = ins.args.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+(AS|as)\s+(\S+))?$/);
      if (!match) {
        problems.push(`${at}: cannot parse FROM ${ins.args}`);
        continue;
      }
      const [, image, asKeyword, name] = match;
      if (asKeyword && asKeyword !== 'AS') problems.push(`${at}: use upper-case AS`);
      if (name && name !== name.toLowerCase())
        problems.push(`${at}: stage name ${name} must be lower case`);
      if (name && stages.has(name)) problems.push(`${at}: duplicate stage name ${name}`);
      const parent = stages.get(image);
      if (!parent && !isPinned(image))
        problems.push(`${at}: base image ${image} must be pinned to a full version or a digest`);
      current = { name, user: parent ? parent.user : 'root', parent };
      if (name) stages.set(name, current);
      continue;
    }
    if (!current) {
      if (!['ARG'].includes(ins.upper)) problems.push(`${at}: ${ins.upper} before the first FROM`);
      continue;
    }
    switch (ins.upper) {
      case 'USER':
        current.user = ins.args.split(':')[0];
        break;
      case 'ADD':
        problems.push(
          `${at}: use COPY, not ADD${/https?:\/\//.test(ins.args) ? ' (and never fetch URLs during the build)' : ''}`,
        );
        break;
      case 'RUN':
        if (/\bnpm\s+(install|i)\b/.test(ins.args))
          problems.push(`${at}: use npm ci (the lockfile), not npm install`);
        if (/\bnpm\s+ci\b/.test(ins.args) && !/--mount=type=cache/.test(ins.args))
          problems.push(`${at}: npm ci needs a BuildKit cache mount`);
        if (/\bapt-get\s+install\b/.test(ins.args) && !/--no-install-recommends/.test(ins.args))
          problems.push(`${at}: apt-get install needs --no-install-recommends`);
        if (/\bcurl\b[^|]*\|\s*(ba)?sh/.test(ins.args))
          problems.push(`${at}: do not pipe downloads into a shell`);
        break;
      case 'CMD':
      case 'ENTRYPOINT':
        if (!ins.args.startsWith('['))
          problems.push(
            `${at}: ${ins.upper} must use the exec (JSON) form so that signals reach the process`,
          );
        break;
      case 'ENV':
      case 'ARG':
        if (/\b[A-Z_]*(PASSWORD|SECRET|TOKEN)[A-Z_]*=/.test(ins.args))
          problems.push(`${at}: ${ins.upper} must not carry secrets (they stay in the image)`);
        break;
      case 'WORKDIR':
        if (!ins.args.startsWith('/')) problems.push(`${at}: WORKDIR must be absolute`);
        break;
      case 'MAINTAINER':
        problems.push(`${at}: MAINTAINER is deprecated (use a LABEL)`);
        break;
      default:
    }
  }
  for (const target of requiredTargets)
    if (!stages.has(target)) problems.push(`target ${target} is missing`);
  for (const target of runtimeTargets) {
    const stage = stages.get(target);
    if (stage && ['root', '0', ''].includes(stage.user))
      problems.push(`target ${target} runs as root: set a non-root USER`);
  }
  return problems;
}

export function dockerignoreViolations(text) {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const problems = [];
  if (rules[0] !== '*')
    problems.push(
      '.dockerignore must start with * (an allowlist: new files stay out of the context)',
    );
  for (const rule of rules.filter((r) => r.startsWith('!'))) {
    if (/\.env|\.git|node_modules|dist|\.cache|terraform|deploy/.test(rule))
      problems.push(`.dockerignore re-includes ${rule}`);
  }
  return problems;
}

// ---------------------------------------------------------------- RabbitMQ

/** The topology of docs/api.md, Events on the wire and The summary RPC (names also in libs/contracts/src/topology.ts). */
export function rabbitDefinitionsViolations(defs) {
  const problems = [];
  const exchange = (name) => (defs.exchanges ?? []).find((e) => e.name === name);
  const queue = (name) => (defs.queues ?? []).find((q) => q.name === name);
  const bound = (source, destination, key) =>
    (defs.bindings ?? []).some(
      (b) =>
        b.source === source &&
        b.destination === destination &&
        b.destination_type === 'queue' &&
        (key === undefined || b.routing_key === key),
    );

  const events = exchange('taskit.events');
  if (!events) problems.push('exchange taskit.events is missing');
  else if (events.type !== 'topic' || events.durable !== true)
    problems.push('exchange taskit.events must be a durable topic exchange');

  for (const name of [
    'analytics.task-events',
    'telegraf.task-events',
    'analytics.task-events.dlq',
    'analytics.rpc',
  ]) {
    const q = queue(name);
    if (!q) problems.push(`queue ${name} is missing`);
    else if (q.durable !== true && name !== 'analytics.rpc')
      problems.push(`queue ${name} must be durable`);
  }
  for (const name of ['analytics.task-events', 'telegraf.task-events']) {
    const q = queue(name);
    if (q && q.arguments?.['x-queue-type'] !== 'quorum')
      problems.push(`queue ${name} must be a quorum queue`);
    if (!bound('taskit.events', name, 'task.#'))
      problems.push(`queue ${name} must be bound to taskit.events with task.#`);
  }
  const worker = queue('analytics.task-events');
  if (worker) {
    const args = worker.arguments ?? {};
    const dlx = args['x-dead-letter-exchange'];
    if (!dlx) problems.push('queue analytics.task-events needs x-dead-letter-exchange');
    else {
      if (!exchange(dlx)) problems.push(`dead-letter exchange ${dlx} is missing`);
      if (!bound(dlx, 'analytics.task-events.dlq'))
        problems.push(`analytics.task-events.dlq must be bound to ${dlx}`);
    }
    if (!Number.isInteger(args['x-delivery-limit']))
      problems.push(
        'queue analytics.task-events needs an integer x-delivery-limit (poison messages)',
      );
    if (
      args['x-dead-letter-strategy'] === 'at-least-once' &&
      args['x-overflow'] !== 'reject-publish'
    ) {
      problems.push('at-least-once dead-lettering needs x-overflow=reject-publish');
    }
  }
  return problems;
}

// ---------------------------------------------------------------- Grafana

/** Grafana's server-side expressions (`$A - $B`) and the mixed-datasource panel that holds them. */
const GRAFANA_BUILT_IN_DATASOURCES = new Set(['__expr__', '-- Mixed --']);

/**
 * Datasource and dashboards: parseable, consistent, and querying the InfluxDB schema
 * (docs/api.md, The InfluxDB schema) in InfluxQL, which every InfluxDB generation answers. The
 * queries' results are tested against a real InfluxDB in grafana-dashboards.int-spec.ts.
 */
export function grafanaViolations(datasources, dashboards) {
  const problems = [];
  const influx = (datasources.datasources ?? []).find((d) => d.type === 'influxdb');
  if (!influx) return ['no influxdb datasource is provisioned'];
  if (influx.jsonData?.version !== 'InfluxQL')
    problems.push('the influxdb datasource must use InfluxQL');
  // Per-deployment names and the token are settings, never constants in the file.
  if (!/^\$\{?INFLUX_BUCKET\}?$/.test(influx.jsonData?.dbName ?? ''))
    problems.push('the influxdb datasource must take its database from $INFLUX_BUCKET');
  if (!/^\$\{?INFLUX_URL\}?$/.test(influx.url ?? ''))
    problems.push('the influxdb datasource must take its URL from $INFLUX_URL');
  if (!/\$\{?INFLUX_TOKEN\}?$/.test(influx.secureJsonData?.httpHeaderValue1 ?? ''))
    problems.push('the influxdb token must come from $INFLUX_TOKEN');
  if (dashboards.length === 0) problems.push('no dashboard is provisioned');

  for (const { file, dashboard } of dashboards) {
    const panels = dashboard.panels ?? [];
    const queries = panels.flatMap((p) =>
      (p.targets ?? [])
        .filter((t) => t.datasource?.uid !== '__expr__')
        .map((t) => ({ panel: p, query: t.query ?? '' })),
    );
    for (const p of panels) {
      for (const ref of [p.datasource, ...(p.targets ?? []).map((t) => t.datasource)]) {
        if (ref?.uid && ref.uid !== influx.uid && !GRAFANA_BUILT_IN_DATASOURCES.has(ref.uid))
          problems.push(
            `${file}: panel "${p.title}" uses datasource ${ref.uid}, not ${influx.uid}`,
          );
      }
    }
    for (const { panel, query } of queries) {
      if (!/FROM "task_events"/.test(query))
        problems.push(`${file}: panel "${panel.title}" does not read measurement task_events`);
      if (!/sum\("count"\)/.test(query))
        problems.push(`${file}: panel "${panel.title}" does not read field count`);
    }
    const has = (test) => queries.some(({ panel, query }) => test(panel.title ?? '', query));
    const titled = (test) => panels.some((p) => test(p.title ?? '', p.targets ?? []));
    if (!has((_, q) => /GROUP BY time\(1m\), "type"/.test(q)))
      problems.push(`${file}: needs events per minute by type`);
    if (
      !titled(
        (t, targets) =>
          /completion rate/i.test(t) &&
          targets.some((x) => (x.query ?? '').includes("'task.completed'")) &&
          targets.some((x) => (x.query ?? '').includes("'task.created'")),
      )
    )
      problems.push(`${file}: needs the completion rate (task.completed / task.created)`);
    if (!has((_, q) => /GROUP BY .*"source"/.test(q) && !/"source" = '/.test(q)))
      problems.push(`${file}: needs worker and telegraf counts side by side`);
    if (
      !titled(
        (t, targets) =>
          /difference/i.test(t) &&
          targets.some((x) => (x.query ?? '').includes(`"source" = 'worker'`)) &&
          targets.some((x) => (x.query ?? '').includes(`"source" = 'telegraf'`)),
      )
    )
      problems.push(`${file}: needs the worker - telegraf difference`);
  }
  return problems;
}
