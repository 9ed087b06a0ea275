# Secret Manager: the containers of every credential Taskit reads, one per (service,
# credential), each readable only by the Google service account of the workload that
# uses it (Workload Identity). Terraform creates the secrets, never their values: the
# operator adds a version of each (docs/deployment.md, step 6), so no credential is ever
# in Terraform state. The gke overlay mounts them as files through the GKE Secret Manager
# add-on (deploy/k8s/overlays/gke/secrets.yaml); no Kubernetes Secret holds them.
locals {
  # secret id suffix => the workload that reads it and the file it is mounted as.
  secrets = {
    "gateway-mongodb-uri"     = { workload = "gateway", file = "mongodb-uri" }
    "gateway-redis-url"       = { workload = "gateway", file = "redis-url" }
    "gateway-redis-cache-url" = { workload = "gateway", file = "redis-cache-url" }
    "gateway-rabbitmq-url"    = { workload = "gateway", file = "rabbitmq-url" }
    "gateway-session-secret"  = { workload = "gateway", file = "session-secret" }
    "analytics-rabbitmq-url"  = { workload = "analytics", file = "rabbitmq-url" }
    "analytics-influx-token"  = { workload = "analytics", file = "influx-token" }
    "telegraf-rabbitmq-url"   = { workload = "telegraf", file = "rabbitmq-url" }
    "telegraf-influx-token"   = { workload = "telegraf", file = "influx-token" }
    "grafana-admin-password"  = { workload = "grafana", file = "admin-password" }
    "grafana-influx-token"    = { workload = "grafana", file = "influx-token" }
  }
}

resource "google_secret_manager_secret" "taskit" {
  for_each = local.secrets

  secret_id = "taskit-${each.key}"
  labels = {
    workload = each.value.workload
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_iam_member" "accessor" {
  for_each = local.secrets

  secret_id = google_secret_manager_secret.taskit[each.key].id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.workload[each.value.workload].member
}

# Memorystore's CA is not a secret, but it comes from Terraform: kept as a secret version
# so that the gateway mounts it beside its credentials (REDIS_TLS_CA_FILE).
resource "google_secret_manager_secret" "redis_ca" {
  secret_id = "taskit-gateway-redis-ca"
  labels = {
    workload = "gateway"
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "redis_ca" {
  secret = google_secret_manager_secret.redis_ca.id
  secret_data = join("\n", distinct(flatten([
    for instance in google_redis_instance.taskit : [for ca in instance.server_ca_certs : ca.cert]
  ])))
}

resource "google_secret_manager_secret_iam_member" "redis_ca" {
  secret_id = google_secret_manager_secret.redis_ca.id
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.workload["gateway"].member
}
