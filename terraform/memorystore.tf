# Memorystore for Redis on private service access, with in-transit encryption (TLS on
# 6378, the server's CA in output redis_ca_certificate) and AUTH.
#
# Two instances, because eviction is instance-wide: `sessions` holds what must never be
# evicted (sessions, rate-limit counters, locks) under `noeviction`, HA across two zones;
# `cache` holds the task-list cache only, under `allkeys-lru`, where an evicted entry is a
# cache miss. One instance with `volatile-*` cannot promise it: sessions carry TTLs too,
# and eviction samples keys without regard to what they are (docs/deployment.md, Redis).
locals {
  redis_instances = {
    sessions = { tier = "STANDARD_HA", memory_size_gb = var.redis_sessions_memory_gb, policy = "noeviction" }
    cache    = { tier = var.redis_cache_tier, memory_size_gb = var.redis_cache_memory_gb, policy = "allkeys-lru" }
  }
}

resource "google_redis_instance" "taskit" {
  for_each = local.redis_instances

  name           = "${var.cluster_name}-${each.key}"
  region         = var.region
  tier           = each.value.tier
  memory_size_gb = each.value.memory_size_gb
  redis_version  = "REDIS_7_2"

  authorized_network      = google_compute_network.vpc.id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"

  redis_configs = {
    maxmemory-policy = each.value.policy
  }

  # Failover and upgrades only at night (UTC), like the cluster's maintenance window.
  maintenance_policy {
    weekly_maintenance_window {
      day = "TUESDAY"
      start_time {
        hours   = 2
        minutes = 0
      }
    }
  }

  depends_on = [google_service_networking_connection.private_services]
}
