# Cloud Armor in front of the Ingress (BackendConfig gateway, securityPolicy): one client
# address may send var.armor_rate_limit_per_minute requests a minute; beyond that the edge
# answers 429 before the request reaches a pod. The per-user limits of the gateway (in
# Redis) stay the fine-grained ones; this rule stops floods from one address.
resource "google_compute_security_policy" "gateway" {
  name        = "${var.cluster_name}-gateway"
  description = "Per-client rate limit in front of the Taskit gateway"

  rule {
    action   = "throttle"
    priority = 1000
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.armor_rate_limit_per_minute
        interval_sec = 60
      }
    }
    description = "Throttle each client address"
  }

  rule {
    action   = "allow"
    priority = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    description = "Default: allow"
  }

  depends_on = [google_project_service.enabled]
}
