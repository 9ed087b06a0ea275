// Terraform: `tofu fmt -check` for real, then the GKE settings asserted on the parsed HCL.
// `validate` is out of reach: it needs the hashicorp/google provider binary, and the Go
// module proxy serves that module only up to v1.20.0 (its v2+ tags lack the /vN module
// path), while the registry that distributes provider builds is not reachable here.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { run } from './harness.mjs';

export function tofuFmtProblems(tofu, dir) {
  // An empty CLI config: no ~/.terraformrc is read (or warned about).
  const env = { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', TF_IN_AUTOMATION: '1' };
  const result = run(tofu, ['fmt', '-check', '-recursive', '-diff', '-no-color', dir], { env });
  if (result.status === 0) return [];
  return [
    `tofu fmt -check found unformatted files (run: tofu fmt -recursive ${dir})`,
    result.stdout.trim() || result.stderr.trim(),
  ];
}

/** Parses every .tf file of a directory into one merged Terraform-JSON-like object. */
export async function parseTerraform(dir) {
  const merged = {};
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.tf'))
    .sort()) {
    const parsed = await parse(file, readFileSync(path.join(dir, file), 'utf8'));
    for (const [section, blocks] of Object.entries(parsed)) {
      if (Array.isArray(blocks)) {
        // terraform, locals: lists of blocks.
        merged[section] = [...(merged[section] ?? []), ...blocks];
      } else if (section === 'resource' || section === 'data') {
        // resource.<type>.<name>
        merged[section] ??= {};
        for (const [type, byName] of Object.entries(blocks))
          merged[section][type] = { ...merged[section][type], ...byName };
      } else {
        // variable.<name>, output.<name>, provider.<name>, module.<name>
        merged[section] = { ...merged[section], ...blocks };
      }
    }
  }
  return merged;
}

const first = (value) => (Array.isArray(value) ? value[0] : value);
const only = (resources, type) => Object.values(resources?.[type] ?? {}).map(first);

/** The settings the deployment relies on (docs/deployment.md), asserted on the parsed configuration. */
export function terraformViolations(tf, files) {
  const problems = [];
  const resources = tf.resource ?? {};
  const expect = (condition, message) => {
    if (!condition) problems.push(message);
  };

  for (const file of [
    'versions.tf',
    'providers.tf',
    'backend.tf',
    'variables.tf',
    'outputs.tf',
    'network.tf',
    'gke.tf',
  ]) {
    expect(files.includes(file), `${file} is missing (split by concern)`);
  }

  const terraformBlocks = (tf.terraform ?? []).map(first);
  const google = terraformBlocks.map((t) => first(t.required_providers)?.google).find(Boolean);
  expect(
    google?.source === 'hashicorp/google',
    'required_providers.google must come from hashicorp/google',
  );
  expect(
    /^(~>|=)?\s*\d+\.\d+/.test(google?.version ?? '') && !/^>=/.test(google?.version ?? ''),
    `the google provider version must be pinned (~> or =), got ${google?.version}`,
  );
  expect(
    terraformBlocks.some((t) => first(t.backend)?.gcs),
    'a gcs backend must be configured',
  );

  const network = only(resources, 'google_compute_network')[0];
  expect(
    network?.auto_create_subnetworks === false,
    'the VPC must use custom subnets (auto_create_subnetworks = false)',
  );
  const subnet = only(resources, 'google_compute_subnetwork')[0];
  const ranges = (subnet?.secondary_ip_range ?? []).map((r) => r.range_name);
  expect(
    ranges.includes('pods') && ranges.includes('services'),
    'the subnet needs secondary ranges pods and services',
  );
  expect(subnet?.private_ip_google_access === true, 'the subnet needs private_ip_google_access');
  expect(
    only(resources, 'google_compute_router_nat').length === 1,
    'Cloud NAT (google_compute_router_nat) is missing',
  );

  const cluster = only(resources, 'google_container_cluster')[0];
  expect(cluster, 'google_container_cluster is missing');
  if (cluster) {
    const privateConfig = first(cluster.private_cluster_config);
    expect(privateConfig?.enable_private_nodes === true, 'the cluster needs private nodes');
    expect(
      /\.svc\.id\.goog/.test(first(cluster.workload_identity_config)?.workload_pool ?? ''),
      'the cluster needs Workload Identity (workload_pool)',
    );
    expect(first(cluster.release_channel)?.channel, 'the cluster needs a release channel');
    expect(cluster.enable_shielded_nodes === true, 'the cluster needs shielded nodes');
    expect(
      cluster.datapath_provider === 'ADVANCED_DATAPATH',
      'the cluster needs Dataplane V2 (datapath_provider = ADVANCED_DATAPATH)',
    );
    expect(cluster.remove_default_node_pool === true, 'the default node pool must be removed');
    expect(
      first(cluster.ip_allocation_policy)?.cluster_secondary_range_name === 'pods',
      'the cluster must be VPC-native on the pods range',
    );
  }

  const pool = only(resources, 'google_container_node_pool')[0];
  expect(pool, 'google_container_node_pool is missing');
  if (pool) {
    const autoscaling = first(pool.autoscaling);
    expect(
      autoscaling && (autoscaling.max_node_count || autoscaling.total_max_node_count),
      'the node pool needs autoscaling',
    );
    const node = first(pool.node_config);
    expect(
      /google_service_account\.\w+\.email/.test(node?.service_account ?? ''),
      'the node pool must run as a dedicated service account',
    );
    expect(
      first(node?.workload_metadata_config)?.mode === 'GKE_METADATA',
      'the node pool must expose the GKE metadata server',
    );
    const shielded = first(node?.shielded_instance_config);
    expect(
      shielded?.enable_secure_boot === true && shielded?.enable_integrity_monitoring === true,
      'nodes need secure boot and integrity monitoring',
    );
  }

  const nodeRoles = [...only(resources, 'google_project_iam_member')].map((m) => m.role);
  expect(
    nodeRoles.every((role) => !/roles\/(editor|owner)$/.test(role)),
    'no project-wide editor/owner grants',
  );
  expect(
    only(resources, 'google_artifact_registry_repository')[0]?.format === 'DOCKER',
    'a Docker Artifact Registry repository is missing',
  );
  expect(
    only(resources, 'google_artifact_registry_repository_iam_member').some(
      (m) => m.role === 'roles/artifactregistry.reader',
    ),
    'the nodes need artifactregistry.reader on the repository',
  );
  const wi = only(resources, 'google_service_account_iam_member').filter(
    (m) => m.role === 'roles/iam.workloadIdentityUser',
  );
  expect(
    wi.length > 0 && wi.every((m) => /svc\.id\.goog\[/.test(m.member)),
    'Workload Identity bindings (roles/iam.workloadIdentityUser) are missing',
  );
  const workloads = (tf.locals ?? []).map((l) => String(l.workloads ?? '')).join(' ');
  expect(
    workloads.includes('"gateway"') && workloads.includes('"analytics"'),
    'Workload Identity must cover gateway and analytics (local.workloads)',
  );

  const variables = tf.variable ?? {};
  const withValidation = Object.entries(variables).filter(([, v]) => first(v).validation);
  expect(
    withValidation.length >= Object.keys(variables).length / 2,
    `most variables need validation (${withValidation.length}/${Object.keys(variables).length})`,
  );
  for (const name of ['project_id', 'region'])
    expect(first(variables[name])?.validation, `variable ${name} needs validation`);
  for (const name of ['cluster_name', 'get_credentials_command', 'registry_url'])
    expect(tf.output?.[name], `output ${name} is missing`);
  return problems;
}

/**
 * The backing services (docs/deployment.md, steps 3 to 6): private service access,
 * Memorystore with TLS and AUTH (sessions never evicted for cache), Secret Manager with
 * per-workload accessors, Cloud Armor in front of the Ingress, the Secret Manager add-on.
 */
export function backingServiceViolations(tf, { tfvarsExample, ingress }) {
  const problems = [];
  const resources = tf.resource ?? {};
  const expect = (condition, message) => {
    if (!condition) problems.push(message);
  };
  const locals = Object.assign({}, ...(tf.locals ?? []).map(first));
  const services = JSON.stringify(locals.services ?? []);
  for (const api of ['redis.googleapis.com', 'servicenetworking.googleapis.com'])
    expect(services.includes(api), `the ${api} API is not enabled (apis.tf)`);

  const range = only(resources, 'google_compute_global_address').find(
    (a) => a.purpose === 'VPC_PEERING',
  );
  expect(range, 'private service access needs a VPC_PEERING range (google_compute_global_address)');
  const connection = only(resources, 'google_service_networking_connection')[0];
  expect(
    connection?.service === 'servicenetworking.googleapis.com',
    'private service access needs google_service_networking_connection',
  );

  const redis = only(resources, 'google_redis_instance');
  expect(redis.length > 0, 'Memorystore (google_redis_instance) is missing');
  for (const r of redis) {
    expect(
      r.transit_encryption_mode === 'SERVER_AUTHENTICATION',
      'Memorystore needs in-transit encryption (SERVER_AUTHENTICATION)',
    );
    expect(
      r.connect_mode === 'PRIVATE_SERVICE_ACCESS',
      'Memorystore must use private service access',
    );
    expect(r.auth_enabled === true, 'Memorystore needs AUTH (auth_enabled)');
  }
  // Sessions, rate limits and locks must never be evicted to make room for cache.
  const instances = locals.redis_instances ?? {};
  expect(
    instances.sessions?.policy === 'noeviction' && instances.sessions?.tier === 'STANDARD_HA',
    'local.redis_instances.sessions must be STANDARD_HA with maxmemory-policy noeviction',
  );
  expect(
    instances.cache && instances.cache.policy !== 'noeviction',
    'local.redis_instances.cache must evict (the cache lives apart from the sessions)',
  );

  const secrets = locals.secrets ?? {};
  const workloads = String(locals.workloads ?? '');
  expect(Object.keys(secrets).length > 0, 'local.secrets lists no Secret Manager secret');
  for (const [id, s] of Object.entries(secrets))
    expect(
      workloads.includes(`"${s.workload}"`),
      `secret ${id}: its workload ${s.workload} has no Workload Identity account (local.workloads)`,
    );
  const accessor = first(resources.google_secret_manager_secret_iam_member?.accessor);
  expect(
    accessor?.role === 'roles/secretmanager.secretAccessor' &&
      /google_service_account\.workload\[each\.value\.workload\]/.test(accessor?.member ?? ''),
    'each secret must be readable by its own workload only (google_secret_manager_secret_iam_member.accessor)',
  );
  for (const m of only(resources, 'google_project_iam_member'))
    expect(
      !/secretmanager/.test(JSON.stringify(m)),
      'no project-wide Secret Manager role: grant each secret to its workload',
    );
  for (const v of only(resources, 'google_secret_manager_secret_version'))
    expect(
      !/var\./.test(String(v.secret_data)),
      'no secret value from a variable: Terraform creates the secrets, the operator adds their values',
    );

  const cluster = only(resources, 'google_container_cluster')[0];
  expect(
    first(cluster?.secret_manager_config)?.enabled === true,
    'the cluster needs the Secret Manager add-on (secret_manager_config), for secrets as files',
  );
  expect(
    cluster?.enable_fqdn_network_policy === true,
    'the cluster needs enable_fqdn_network_policy (egress to InfluxDB and Google APIs by name)',
  );

  const armor = only(resources, 'google_compute_security_policy')[0];
  const throttles = (armor?.rule ?? []).filter(
    (r) => ['throttle', 'rate_based_ban'].includes(r.action) && first(r.rate_limit_options),
  );
  expect(throttles.length > 0, 'Cloud Armor needs a rate-based rule (throttle or rate_based_ban)');
  expect(
    /securityPolicy:\s*\n\s*name:\s*SECURITY_POLICY_NAME/.test(ingress),
    "the gke Ingress' BackendConfig must name the Cloud Armor policy (securityPolicy)",
  );
  expect(
    !/cloud2\.influxdata\.com/.test(tfvarsExample),
    'terraform.tfvars.example must not name an InfluxDB Cloud region (regions close)',
  );
  return problems;
}
