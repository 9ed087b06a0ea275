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
  description = "This project's deploy/k8s/overlays/gke/settings.env (also in the deploy-config bucket, which the pipeline reads)."
  value       = local.gke_overlay_settings
}

output "gke_egress_peers" {
  description = "This project's deploy/k8s/overlays/gke/egress-peers.yaml: egress to MongoDB's endpoints and Memorystore's range."
  value       = local.gke_egress_peers
}

output "gke_secret_classes" {
  description = "This project's deploy/k8s/overlays/gke/secret-classes.yaml: each workload's secrets, mounted as files."
  value       = local.gke_secret_classes
}

output "deploy_config_bucket" {
  description = "Where the pipeline reads the gke overlay's settings.env and egress-peers.yaml."
  value       = "gs://${google_storage_bucket.deploy_config.name}/gke"
}

output "redis_hosts" {
  description = "Memorystore addresses (TLS port 6378): sessions for REDIS_URL, cache for REDIS_CACHE_URL (rediss://:AUTH@host:6378)."
  value       = { for name, instance in google_redis_instance.taskit : name => "${instance.host}:${instance.port}" }
}

output "redis_ca_certificate" {
  description = "Memorystore's server CA, also in secret taskit-gateway-redis-ca (the gateway reads it from REDIS_TLS_CA_FILE)."
  value       = google_secret_manager_secret_version.redis_ca.secret_data
  sensitive   = true
}

output "secrets" {
  description = "Secret Manager secrets whose first version the operator adds (docs/deployment.md, step 6)."
  value       = sort([for secret in google_secret_manager_secret.taskit : secret.secret_id])
}

output "cloudbuild_service_account" {
  description = "The build's identity: deploy/k8s/bootstrap binds the namespaced deployer Role to this email."
  value       = google_service_account.cloudbuild.email
}

output "nat_ips" {
  description = "Fixed egress addresses of the cluster (Cloud NAT): allow-list them at InfluxDB if it filters by address."
  value       = google_compute_address.nat[*].address
}

output "cloudbuild_trigger" {
  description = "The Cloud Build trigger that deploys every push of var.github_branch."
  value       = one(google_cloudbuild_trigger.deploy[*].name)
}
