output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = google_container_cluster.taskit.name
}

output "get_credentials_command" {
  description = "Configures kubectl (and skaffold) for the cluster."
  value       = "gcloud container clusters get-credentials ${google_container_cluster.taskit.name} --region ${var.region} --project ${var.project_id}"
}

output "registry_url" {
  description = "Artifact Registry repository of the images (immutable tags: one per commit)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "ingress_ip" {
  description = "Public IP of the ingress: create an A record for var.domain pointing here."
  value       = google_compute_global_address.ingress.address
}

output "gke_overlay_settings" {
  description = "This project's deploy/k8s/overlays/gke/settings.env (the trigger passes the same values to cloudbuild.yaml)."
  value       = <<-EOT
    DOMAIN=${var.domain}
    STATIC_IP_NAME=${google_compute_global_address.ingress.name}
    SSL_POLICY_NAME=${google_compute_ssl_policy.modern.name}
    GATEWAY_GSA_EMAIL=${google_service_account.workload["gateway"].email}
    ANALYTICS_GSA_EMAIL=${google_service_account.workload["analytics"].email}
    OTEL_COLLECTOR_GSA_EMAIL=${google_service_account.otel_collector.email}
    INFLUX_URL=${var.influx_url}
    INFLUX_ORG=${var.influx_org}
    INFLUX_BUCKET=${var.influx_bucket}
    MONGODB_CIDR=${var.managed_service_cidrs.mongodb}
    REDIS_CIDR=${var.managed_service_cidrs.redis}
    RABBITMQ_CIDR=${var.managed_service_cidrs.rabbitmq}
    INFLUX_CIDR=${var.managed_service_cidrs.influxdb}
  EOT
}

output "nat_ips" {
  description = "Fixed egress addresses of the cluster (Cloud NAT): allow-list them at the managed services."
  value       = google_compute_address.nat[*].address
}

output "cloudbuild_trigger" {
  description = "The Cloud Build trigger that deploys every push of var.github_branch."
  value       = one(google_cloudbuild_trigger.deploy[*].name)
}
