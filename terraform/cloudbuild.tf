# The delivery pipeline: a Cloud Build trigger runs cloudbuild.yaml on every push to the
# main branch (test, build, push, `skaffold deploy -p gke`), as its own service account,
# which may only push to Taskit's two repositories, deploy into the cluster and write its
# logs.

resource "google_service_account" "cloudbuild" {
  account_id   = "${var.cluster_name}-cloudbuild"
  display_name = "Cloud Build: test, build, push and deploy Taskit"

  depends_on = [google_project_service.enabled]
}

# Push the images (the tags are immutable) and the BuildKit cache, nothing else.
resource "google_artifact_registry_repository_iam_member" "cloudbuild_images" {
  for_each = {
    images = google_artifact_registry_repository.images.name
    cache  = google_artifact_registry_repository.build_cache.name
  }

  location   = var.region
  repository = each.value
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.cloudbuild.member
}

# Deploy: Kubernetes objects in the project's clusters (no RBAC or IAM changes; includes
# container.clusters.connect, for the DNS endpoint) and the build's logs.
resource "google_project_iam_member" "cloudbuild" {
  for_each = toset(["roles/container.developer", "roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = google_service_account.cloudbuild.member
}

# Created once github_owner is set: the repository must be connected to Cloud Build first.
resource "google_cloudbuild_trigger" "deploy" {
  count = var.github_owner == "" ? 0 : 1

  name        = "${var.cluster_name}-deploy"
  description = "Push to ${var.github_branch}: test, build, push and deploy Taskit to ${var.cluster_name}"
  location    = var.region
  filename    = "cloudbuild.yaml"

  # The GitHub repository, connected to Cloud Build once in the console (Cloud Build GitHub
  # app); each push to the branch starts a build of that commit.
  github {
    owner = var.github_owner
    name  = var.github_repository
    push {
      branch = "^${var.github_branch}$"
    }
  }

  service_account    = google_service_account.cloudbuild.id
  include_build_logs = "INCLUDE_BUILD_LOGS_WITH_STATUS"

  # Terraform's values, none of them secret: the registry, the cluster and the gke
  # overlay's settings (the same as output gke_overlay_settings).
  substitutions = {
    _REGION                   = var.region
    _REPOSITORY               = google_artifact_registry_repository.images.repository_id
    _CACHE_REPOSITORY         = google_artifact_registry_repository.build_cache.repository_id
    _CLUSTER                  = google_container_cluster.taskit.name
    _DOMAIN                   = var.domain
    _STATIC_IP_NAME           = google_compute_global_address.ingress.name
    _SSL_POLICY_NAME          = google_compute_ssl_policy.modern.name
    _GATEWAY_GSA_EMAIL        = google_service_account.workload["gateway"].email
    _ANALYTICS_GSA_EMAIL      = google_service_account.workload["analytics"].email
    _OTEL_COLLECTOR_GSA_EMAIL = google_service_account.otel_collector.email
    _INFLUX_URL               = var.influx_url
    _INFLUX_ORG               = var.influx_org
    _INFLUX_BUCKET            = var.influx_bucket
    _MONGODB_CIDR             = var.managed_service_cidrs.mongodb
    _REDIS_CIDR               = var.managed_service_cidrs.redis
    _RABBITMQ_CIDR            = var.managed_service_cidrs.rabbitmq
    _INFLUX_CIDR              = var.managed_service_cidrs.influxdb
  }

  depends_on = [
    google_project_service.enabled,
    google_artifact_registry_repository_iam_member.cloudbuild_images,
    google_project_iam_member.cloudbuild,
  ]
}
