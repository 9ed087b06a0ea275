# Node identity: only what a node needs (write logs and metrics, read images).
resource "google_service_account" "nodes" {
  account_id   = "${var.cluster_name}-nodes"
  display_name = "GKE nodes of ${var.cluster_name}"

  # On an empty project the IAM API must be on before the first account is created.
  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "nodes_default" {
  project = var.project_id
  role    = "roles/container.defaultNodeServiceAccount"
  member  = google_service_account.nodes.member
}

# Workload identities: one Google service account per Taskit service, usable only by that
# service's Kubernetes service account (the gke overlay annotates it with the email). They
# hold no project roles: each may read its own secrets in Secret Manager (secrets.tf).
locals {
  workloads = toset(["gateway", "analytics", "telegraf", "grafana"])
  # The gke overlay's namespace (deploy/k8s/overlays/gke/kustomization.yaml); the deploy
  # checks keep the two equal. A constant: Workload Identity binds exactly this one.
  kubernetes_namespace = "taskit"
}

resource "google_service_account" "workload" {
  for_each = local.workloads

  account_id   = "taskit-${each.key}"
  display_name = "Taskit ${each.key} (Workload Identity)"

  depends_on = [google_project_service.enabled]
}

resource "google_service_account_iam_member" "workload_identity" {
  for_each = local.workloads

  service_account_id = google_service_account.workload[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${local.kubernetes_namespace}/${each.key}]"

  # The workload pool exists once the cluster does.
  depends_on = [google_container_cluster.taskit]
}

# The OpenTelemetry Collector of the gke overlay (otel-collector.yaml) writes the services'
# traces to Cloud Trace: that role and nothing else, usable only by its Kubernetes service
# account.
resource "google_service_account" "otel_collector" {
  account_id   = "taskit-otel-collector"
  display_name = "Taskit OpenTelemetry Collector (Workload Identity)"

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "otel_collector_trace" {
  project = var.project_id
  role    = "roles/cloudtrace.agent"
  member  = google_service_account.otel_collector.member
}

resource "google_service_account_iam_member" "otel_collector_workload_identity" {
  service_account_id = google_service_account.otel_collector.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${local.kubernetes_namespace}/otel-collector]"

  depends_on = [google_container_cluster.taskit]
}
