output "cluster_name" {
  description = "Name of the GKE cluster."
  value       = google_container_cluster.taskit.name
}

output "get_credentials_command" {
  description = "Configures kubectl (and skaffold) for the cluster."
  value       = "gcloud container clusters get-credentials ${google_container_cluster.taskit.name} --region ${var.region} --project ${var.project_id}"
}

output "registry_url" {
  description = "Artifact Registry repository: skaffold's --default-repo."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}"
}

output "ingress_ip" {
  description = "Public IP of the ingress: create an A record for var.domain pointing here."
  value       = google_compute_global_address.ingress.address
}

output "gke_overlay_settings" {
  description = "Contents of deploy/k8s/overlays/gke/settings.env for this project."
  value       = <<-EOT
    DOMAIN=${var.domain}
    STATIC_IP_NAME=${google_compute_global_address.ingress.name}
    SSL_POLICY_NAME=${google_compute_ssl_policy.modern.name}
    GATEWAY_GSA_EMAIL=${google_service_account.workload["gateway"].email}
    ANALYTICS_GSA_EMAIL=${google_service_account.workload["analytics"].email}
    INFLUX_URL=${var.influx_url}
  EOT
}
