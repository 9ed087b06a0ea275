// The delivery pipeline: cloudbuild.yaml, its Terraform (trigger, service account, IAM) and
// the GitHub Actions workflow, checked against each other and against skaffold.yaml, the
// Dockerfile's targets and the gke overlay's settings. No schema is published for
// cloudbuild.yaml in a form we can vendor, so these are structural rules.

const first = (value) => (Array.isArray(value) ? value[0] : value);
const resources = (tf, type) => Object.entries(tf.resource?.[type] ?? {});

/** An image reference pinned to a version (x.y or more, optionally suffixed) or a digest. */
export function isPinnedImage(image) {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = image.match(/:([^:/]+)$/)?.[1];
  return tag !== undefined && /^v?\d+\.\d+(\.\d+)?([-.][\w.-]+)?$/.test(tag);
}

const SECRET_NAME = /PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY/i;
const SECRET_VALUE = [
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // user:password@ in a URL
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^[A-Za-z0-9+/_=-]{32,}$/, // a long token
];

/** Names and values of substitutions that look like secrets (those belong in Secret Manager). */
export function secretSubstitutions(substitutions) {
  return Object.entries(substitutions ?? {})
    .filter(([k, v]) => SECRET_NAME.test(k) || SECRET_VALUE.some((re) => re.test(String(v))))
    .map(([k]) => k);
}

/**
 * The gke overlay's per-project files: Terraform writes them to the deploy-config bucket
 * (terraform/config.tf) and the pipeline copies them over the examples in git.
 */
export const PROJECT_FILES = ['settings.env', 'egress-peers.yaml', 'secret-classes.yaml'];

/** Keys of an env file (KEY=value lines). */
export function envKeys(text) {
  return [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
}

/**
 * cloudbuild.yaml: pinned step images, tests before images, both images built with a
 * BuildKit cache and tagged with the commit, pushed to the registry Terraform creates,
 * deployed with the gke profile waiting for the rollout, the project's files from the
 * deploy-config bucket, and a tag for manual builds too.
 */
export function cloudbuildViolations(build, { skaffold, registry }) {
  const problems = [];
  const steps = build.steps ?? [];
  const script = (s) => [s.entrypoint, ...(s.args ?? [])].join(' ');
  const ids = new Set(steps.map((s) => s.id));
  if (steps.length === 0) return ['cloudbuild.yaml has no steps'];
  for (const s of steps) {
    const at = `step ${s.id ?? s.name}`;
    if (!s.id) problems.push(`${at}: needs an id`);
    if (!isPinnedImage(s.name ?? '')) problems.push(`${at}: image ${s.name} must be pinned`);
    for (const w of s.waitFor ?? [])
      if (w !== '-' && !ids.has(w)) problems.push(`${at}: waits for unknown step ${w}`);
    if (s.secretEnv && !build.availableSecrets?.secretManager)
      problems.push(`${at}: secretEnv needs availableSecrets.secretManager`);
  }
  const find = (re) => steps.find((s) => re.test(script(s)));
  const checks = {
    install: /\bnpm\s+ci\b/,
    lint: /\brun\s+lint\b/,
    'format check': /\bformat:check\b/,
    'type check': /\brun\s+typecheck\b/,
    'unit tests': /\btest:unit\b|selectProjects\s+unit/,
  };
  const checkSteps = [];
  for (const [what, re] of Object.entries(checks)) {
    const step = find(re);
    if (!step) problems.push(`no step runs the ${what}`);
    else checkSteps.push(step);
  }

  const images = find(/buildx\s+build/);
  const artifacts = skaffold.build?.artifacts ?? [];
  if (!images) problems.push('no step builds the images with docker buildx (BuildKit)');
  else {
    const text = script(images);
    const builder = text.match(/buildx\s+create(?:[^\n]|\\\n)*?--driver-opt\s+image=(\S+)/)?.[1];
    if (/buildx\s+create/.test(text) && !isPinnedImage(builder ?? ''))
      problems.push(`step ${images.id}: the BuildKit image (--driver-opt image=) must be pinned`);
    for (const option of ['--cache-from', '--cache-to', '--push'])
      if (!text.includes(option)) problems.push(`step ${images.id}: buildx needs ${option}`);
    if (!text.includes('tag="${_TAG}"') || !text.includes('$${tag:-manual-${BUILD_ID}}'))
      problems.push(
        `step ${images.id}: images must be tagged with \${_TAG} (the commit), or manual-\${BUILD_ID}`,
      );
    for (const a of artifacts) {
      if (!new RegExp(`\\b${a.image}\\b`).test(text))
        problems.push(`step ${images.id}: does not build skaffold artifact ${a.image}`);
      if (a.docker?.target && a.docker.target !== a.image)
        problems.push(`skaffold artifact ${a.image}: target ${a.docker.target} is not its name`);
    }
    const waits = images.waitFor ?? [];
    for (const c of checkSteps)
      if (c !== images && c.id && !waits.includes(c.id) && !checks.install.test(script(c)))
        problems.push(`step ${images.id}: must wait for ${c.id} (no image from untested code)`);
  }

  const deploy = find(/skaffold\s+deploy/);
  if (!deploy) problems.push('no step runs skaffold deploy');
  else {
    const text = script(deploy);
    if (!/(--profile[ =]|-p\s+)gke\b/.test(text))
      problems.push(`step ${deploy.id}: must deploy the gke profile`);
    if (/--status-check[ =]false/.test(text))
      problems.push(`step ${deploy.id}: must wait for the rollout (status check)`);
    if (!text.includes('tag="${_TAG}"'))
      problems.push(`step ${deploy.id}: must deploy the images' tag (\${_TAG})`);
    for (const a of artifacts)
      if (!text.includes(`${a.image}=\${_IMAGE_REPO}/${a.image}:$\${tag}`))
        problems.push(`step ${deploy.id}: must deploy ${a.image} at the images' tag`);
    if (images && !(deploy.waitFor ?? []).includes(images.id))
      problems.push(`step ${deploy.id}: must wait for ${images.id}`);
    for (const f of PROJECT_FILES)
      if (!text.includes(`\${_DEPLOY_CONFIG}/${f}`))
        problems.push(`step ${deploy.id}: does not copy ${f} from \${_DEPLOY_CONFIG}`);
  }

  const subs = build.substitutions ?? {};
  if (subs._TAG !== '${COMMIT_SHA}') problems.push('_TAG must default to ${COMMIT_SHA}');
  if (subs._DEPLOY_CONFIG !== 'gs://${PROJECT_ID}-${_CLUSTER}-deploy-config/gke')
    problems.push(
      "_DEPLOY_CONFIG must be terraform's bucket: gs://${PROJECT_ID}-${_CLUSTER}-deploy-config/gke",
    );
  if (subs._IMAGE_REPO !== '${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_REPOSITORY}')
    problems.push('_IMAGE_REPO must be ${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_REPOSITORY}');
  if (subs._REPOSITORY !== registry.images)
    problems.push(`_REPOSITORY ${subs._REPOSITORY} is not terraform's ${registry.images}`);
  if (subs._CACHE_REPOSITORY !== registry.cache)
    problems.push(
      `_CACHE_REPOSITORY ${subs._CACHE_REPOSITORY} is not terraform's ${registry.cache}`,
    );
  for (const k of secretSubstitutions(subs))
    problems.push(`substitution ${k} looks like a secret: use availableSecrets (Secret Manager)`);
  if (build.options?.logging !== 'CLOUD_LOGGING_ONLY')
    problems.push('options.logging must be CLOUD_LOGGING_ONLY (a user-managed service account)');
  if (!build.timeout) problems.push('a build timeout must be set');
  return problems;
}

/**
 * terraform/: the trigger runs cloudbuild.yaml as a dedicated account that may push to the
 * two repositories, deploy and log, and nothing more; the rest of the review's findings.
 */
export function pipelineTerraformViolations(
  tf,
  { build, settingsKeys, namespace, gitignore, tfvarsExample },
) {
  const problems = [];
  const expect = (ok, message) => ok || problems.push(message);
  const triggers = resources(tf, 'google_cloudbuild_trigger').map(([, v]) => first(v));
  expect(triggers.length === 1, 'exactly one google_cloudbuild_trigger is expected');
  const trigger = triggers[0] ?? {};
  expect(trigger.filename === 'cloudbuild.yaml', 'the trigger must build cloudbuild.yaml');
  const account = String(trigger.service_account ?? '').match(
    /google_service_account\.(\w+)\.id/,
  )?.[1];
  expect(account, 'the trigger must run as a dedicated google_service_account (.id)');
  const member = `\${google_service_account.${account}.member}`;

  const derived = ['_IMAGE_REPO', '_CACHE_REPO', '_TAG', '_DEPLOY_CONFIG'];
  const wanted = Object.keys(build.substitutions ?? {}).filter((k) => !derived.includes(k));
  const given = Object.keys(trigger.substitutions ?? {});
  for (const k of wanted) expect(given.includes(k), `the trigger does not set ${k}`);
  for (const k of given)
    expect(wanted.includes(k), `the trigger sets ${k}, which cloudbuild.yaml does not declare`);
  for (const k of secretSubstitutions(trigger.substitutions))
    problems.push(`the trigger's substitution ${k} looks like a secret`);

  // Project-wide, the build may write logs and connect to the cluster (a custom role with
  // exactly that); what it may do inside is deploy/k8s/bootstrap's namespaced Role.
  const allowedProjectRoles = ['roles/logging.logWriter'];
  const connectOnly = ['container.clusters.get', 'container.clusters.connect'];
  for (const [name, v] of resources(tf, 'google_project_iam_member')) {
    const m = first(v);
    if (m.member !== member) continue;
    const roles = m.for_each ? JSON.stringify(m.for_each) : m.role;
    for (const role of String(roles).match(/roles\/[\w.]+/g) ?? [])
      expect(
        allowedProjectRoles.includes(role),
        `google_project_iam_member.${name}: the build account may not hold ${role} project-wide`,
      );
    for (const [, custom] of String(roles).matchAll(/google_project_iam_custom_role\.(\w+)\.id/g)) {
      const permissions = first(tf.resource?.google_project_iam_custom_role?.[custom])?.permissions;
      expect(
        Array.isArray(permissions) && permissions.every((p) => connectOnly.includes(p)),
        `google_project_iam_custom_role.${custom}: the build account may only ${connectOnly.join(' and ')}`,
      );
    }
  }
  expect(
    /var\.github_owner\s*==\s*""\s*\?\s*0\s*:\s*1/.test(String(trigger.count)),
    'the trigger must wait for github_owner (count = var.github_owner == "" ? 0 : 1)',
  );
  expect(
    first(tf.variable?.github_owner)?.default === '',
    'variable github_owner must default to "" (no trigger before the repository is connected)',
  );
  expect(
    /^github_owner\s*=\s*""/m.test(tfvarsExample ?? ''),
    'terraform.tfvars.example must leave github_owner empty (the first apply comes before the connection)',
  );
  const repos = Object.fromEntries(
    resources(tf, 'google_artifact_registry_repository').map(([name, v]) => [name, first(v)]),
  );
  const writers = resources(tf, 'google_artifact_registry_repository_iam_member')
    .map(([, v]) => first(v))
    .filter((m) => m.member === member);
  expect(
    writers.length > 0 && writers.every((m) => m.role === 'roles/artifactregistry.writer'),
    'the build account needs artifactregistry.writer on the repositories, and no more',
  );
  const immutable = Object.entries(repos).filter(([, r]) => first(r.docker_config)?.immutable_tags);
  expect(immutable.length === 1, 'exactly one repository (the images) must have immutable tags');

  for (const [name, v] of resources(tf, 'google_service_account'))
    expect(
      JSON.stringify(first(v).depends_on ?? []).includes('google_project_service.enabled'),
      `google_service_account.${name} must depend on the API enablement (first apply races)`,
    );

  const nat = first(Object.values(tf.resource?.google_compute_router_nat ?? {})[0]);
  expect(
    nat?.nat_ip_allocate_option === 'MANUAL_ONLY' && nat.nat_ips,
    'Cloud NAT must use reserved addresses (MANUAL_ONLY, nat_ips)',
  );
  expect(tf.output?.nat_ips, 'output nat_ips is missing (the allow-lists need them)');

  const condition = String(first(first(tf.variable?.cluster_name)?.validation)?.condition ?? '');
  const longest = Number(condition.match(/\{0,(\d+)\}/)?.[1]) + 2;
  const suffixes = [
    ...JSON.stringify(tf.resource ?? {}).matchAll(/account_id":"\$\{var\.cluster_name\}([-\w]+)"/g),
  ];
  for (const [, suffix] of suffixes)
    expect(
      longest + suffix.length <= 30,
      `cluster_name allows ${longest} characters, but "\${cluster_name}${suffix}" must fit 30`,
    );

  const locals = Object.assign({}, ...(tf.locals ?? []).map(first));
  expect(
    locals.kubernetes_namespace === namespace,
    `local.kubernetes_namespace (${locals.kubernetes_namespace}) must be the gke overlay's namespace ${namespace}`,
  );
  expect(
    !tf.variable?.kubernetes_namespace,
    'the namespace cannot be a variable: the overlay fixes it',
  );
  const settings = String(locals.gke_overlay_settings ?? '');
  for (const k of settingsKeys)
    expect(settings.includes(`${k}=`), `local.gke_overlay_settings lacks ${k}`);
  expect(
    String(first(tf.output?.gke_overlay_settings)?.value ?? '').includes(
      'local.gke_overlay_settings',
    ),
    'output gke_overlay_settings must be local.gke_overlay_settings',
  );
  const objects = JSON.stringify(
    first(tf.resource?.google_storage_bucket_object?.gke_settings)?.for_each ?? '',
  );
  for (const f of PROJECT_FILES)
    expect(objects.includes(f), `the deploy-config bucket (terraform/config.tf) lacks ${f}`);
  expect(
    first(tf.resource?.google_storage_bucket?.deploy_config)?.name ===
      '${var.project_id}-${var.cluster_name}-deploy-config',
    'the deploy-config bucket must be named <project>-<cluster>-deploy-config (cloudbuild.yaml derives it)',
  );
  expect(!/lock\.hcl/.test(gitignore), 'terraform/.gitignore must not ignore .terraform.lock.hcl');
  return problems;
}

/** .github/workflows: .ci/run on pull requests, actions pinned by commit, read-only token. */
export function workflowViolations(workflow) {
  const problems = [];
  const on = workflow.on ?? workflow[true] ?? {};
  if (!('pull_request' in (Array.isArray(on) ? Object.fromEntries(on.map((e) => [e, 1])) : on)))
    problems.push('the workflow must run on pull_request');
  const permissions = workflow.permissions;
  if (!permissions || permissions === 'write-all' || Object.values(permissions).includes('write'))
    problems.push('the workflow needs read-only top-level permissions');
  const steps = Object.values(workflow.jobs ?? {}).flatMap((j) => j.steps ?? []);
  if (!steps.some((s) => /(^|\s)\.ci\/run\b/.test(s.run ?? '')))
    problems.push('no step runs .ci/run');
  for (const s of steps.filter((s) => s.uses))
    if (!/@[0-9a-f]{40}$/.test(s.uses)) problems.push(`${s.uses} must be pinned to a commit SHA`);
  for (const [name, job] of Object.entries(workflow.jobs ?? {})) {
    const image = typeof job.container === 'string' ? job.container : job.container?.image;
    if (image && !isPinnedImage(image))
      problems.push(`job ${name}: container ${image} must be pinned`);
    if (!job['timeout-minutes']) problems.push(`job ${name}: needs timeout-minutes`);
  }
  return problems;
}
