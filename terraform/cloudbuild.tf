# The delivery pipeline: a Cloud Build trigger runs cloudbuild.yaml on every push to the
# main branch (test, build, push, `skaffold deploy -p gke`), as its own service account,
# which may only push to Taskit's two repositories, read the overlay's settings, deploy
# into namespace taskit and write its logs.

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

# Deploy, least privilege: a custom role with exactly what `get-credentials --dns-endpoint`
# needs (find the cluster, connect to its DNS endpoint). What the build may do inside the
# cluster is the namespaced Role of deploy/k8s/bootstrap (no Secrets, no RBAC, no exec),
# bound to this account's email by an administrator once (docs/deployment.md, step 8).
resource "google_project_iam_custom_role" "deployer" {
  role_id     = "taskitDeployer"
  title       = "Taskit deployer: connect to the cluster"
  permissions = ["container.clusters.get", "container.clusters.connect"]
}

resource "google_project_iam_member" "cloudbuild" {
  for_each = {
    deployer = google_project_iam_custom_role.deployer.id
    logs     = "roles/logging.logWriter"
  }

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

  # Terraform's values, none of them secret. The gke overlay's settings come from the
  # deploy-config bucket (config.tf), whose name cloudbuild.yaml derives (_DEPLOY_CONFIG).
  substitutions = {
    _REGION           = var.region
    _REPOSITORY       = google_artifact_registry_repository.images.repository_id
    _CACHE_REPOSITORY = google_artifact_registry_repository.build_cache.repository_id
    _CLUSTER          = google_container_cluster.taskit.name
  }

  depends_on = [
    google_project_service.enabled,
    google_artifact_registry_repository_iam_member.cloudbuild_images,
    google_project_iam_member.cloudbuild,
  ]
}
