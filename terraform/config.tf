# The gke overlay's per-project files (settings.env, egress-peers.yaml, secret-classes.yaml), rendered from
# Terraform's values into a private bucket that the pipeline copies from before it deploys:
# one source for the trigger and for a deploy by hand (`terraform output`), lists included.
resource "google_storage_bucket" "deploy_config" {
  name                        = "${var.project_id}-${var.cluster_name}-deploy-config"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  versioning {
    enabled = true
  }

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_object" "gke_settings" {
  for_each = {
    "settings.env"        = local.gke_overlay_settings
    "egress-peers.yaml"   = local.gke_egress_peers
    "secret-classes.yaml" = local.gke_secret_classes
  }

  bucket  = google_storage_bucket.deploy_config.name
  name    = "gke/${each.key}"
  content = each.value
}

resource "google_storage_bucket_iam_member" "cloudbuild_reads_config" {
  bucket = google_storage_bucket.deploy_config.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.cloudbuild.member
}

locals {
  gke_overlay_settings = <<-EOT
    DOMAIN=${var.domain}
    STATIC_IP_NAME=${google_compute_global_address.ingress.name}
    SSL_POLICY_NAME=${google_compute_ssl_policy.modern.name}
    SECURITY_POLICY_NAME=${google_compute_security_policy.gateway.name}
    GATEWAY_GSA_EMAIL=${google_service_account.workload["gateway"].email}
    ANALYTICS_GSA_EMAIL=${google_service_account.workload["analytics"].email}
    TELEGRAF_GSA_EMAIL=${google_service_account.workload["telegraf"].email}
    GRAFANA_GSA_EMAIL=${google_service_account.workload["grafana"].email}
    OTEL_COLLECTOR_GSA_EMAIL=${google_service_account.otel_collector.email}
    INFLUX_URL=${var.influx_url}
    INFLUX_HOST=${var.influx_host}
    INFLUX_ORG=${var.influx_org}
    INFLUX_BUCKET=${var.influx_bucket}
  EOT

  # One NetworkPolicy per (workload, managed service outside the cluster) with every peer
  # CIDR of that service. RabbitMQ runs in the cluster (components/rabbitmq-cluster): its
  # policies select pods. InfluxDB is reached by name (FQDNNetworkPolicy in the overlay).
  egress = {
    "gateway-to-mongodb" = { app = "gateway", cidrs = var.mongodb_egress_cidrs, ports = [27017] }
    "gateway-to-redis"   = { app = "gateway", cidrs = [var.private_services_cidr], ports = [6378] }
  }
  gke_egress_peers = join("---\n", [
    for name, rule in local.egress : yamlencode({
      apiVersion = "networking.k8s.io/v1"
      kind       = "NetworkPolicy"
      metadata   = { name = "managed-${name}" }
      spec = {
        podSelector = { matchLabels = { "app.kubernetes.io/name" = rule.app } }
        policyTypes = ["Egress"]
        egress = [{
          to    = [for cidr in rule.cidrs : { ipBlock = { cidr = cidr } }]
          ports = [for port in rule.ports : { protocol = "TCP", port = port }]
        }]
      }
    })
  ])
}

locals {
  # One SecretProviderClass per workload: its secrets in Secret Manager, mounted as files
  # (the Memorystore CA beside the gateway's credentials).
  secret_files = merge(
    { for key, secret in local.secrets : key => merge(secret, { id = google_secret_manager_secret.taskit[key].secret_id }) },
    { "gateway-redis-ca" = { workload = "gateway", file = "redis-ca.pem", id = google_secret_manager_secret.redis_ca.secret_id } },
  )
  gke_secret_classes = join("---\n", [
    for workload in sort(tolist(local.workloads)) : yamlencode({
      apiVersion = "secrets-store.csi.x-k8s.io/v1"
      kind       = "SecretProviderClass"
      metadata   = { name = workload }
      spec = {
        provider = "gke"
        parameters = {
          secrets = yamlencode([
            for key, secret in local.secret_files : {
              resourceName = "projects/${var.project_id}/secrets/${secret.id}/versions/latest"
              path         = secret.file
            } if secret.workload == workload
          ])
        }
      }
    })
  ])
}
