# Regional Standard cluster: control plane and nodes in three zones, private nodes,
# Workload Identity, Dataplane V2 (eBPF datapath with built-in NetworkPolicy enforcement),
# shielded nodes, upgrades through a release channel.
resource "google_container_cluster" "taskit" {
  name     = var.cluster_name
  location = var.region

  network    = google_compute_network.vpc.id
  subnetwork = google_compute_subnetwork.nodes.id

  # The default pool cannot be configured like ours (service account, shielded nodes,
  # autoscaling): remove it and manage google_container_node_pool.app instead.
  remove_default_node_pool = true
  initial_node_count       = 1

  networking_mode = "VPC_NATIVE"
  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  datapath_provider = "ADVANCED_DATAPATH"
  # Egress by host name (FQDNNetworkPolicy): InfluxDB and Google's APIs, no 0.0.0.0/0.
  enable_fqdn_network_policy = true

  private_cluster_config {
    enable_private_nodes = true
    # Keep a public endpoint, restricted to master_authorized_networks, for kubectl/CI.
    enable_private_endpoint = false
    master_ipv4_cidr_block  = var.master_ipv4_cidr
  }

  # The DNS-based endpoint: kubectl authorised by IAM alone (container.clusters.connect),
  # reachable from Cloud Build's workers, whose addresses are not in the list below. The
  # build's identity may connect and then act only in namespace taskit, without Secrets
  # (cloudbuild.tf, deploy/k8s/bootstrap); docs/deployment.md, "Deployer", says why the
  # endpoint stays reachable and what a private pool would change.
  control_plane_endpoints_config {
    dns_endpoint_config {
      allow_external_traffic = true
    }
  }

  master_authorized_networks_config {
    dynamic "cidr_blocks" {
      for_each = var.master_authorized_networks
      content {
        cidr_block   = cidr_blocks.value.cidr_block
        display_name = cidr_blocks.value.display_name
      }
    }
  }

  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }

  release_channel {
    channel = var.release_channel
  }

  enable_shielded_nodes = true

  # The Secret Manager add-on: pods mount their secrets as files (the gke overlay's
  # SecretProviderClass), read with the pod's Workload Identity; no Kubernetes Secret.
  secret_manager_config {
    enabled = true
  }

  addons_config {
    http_load_balancing {
      disabled = false
    }
    horizontal_pod_autoscaling {
      disabled = false
    }
    gce_persistent_disk_csi_driver_config {
      enabled = true
    }
  }

  # Managed Service for Prometheus collects the PodMonitoring targets of the gke overlay.
  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
    managed_prometheus {
      enabled = true
    }
  }

  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }

  # Automatic upgrades only at night (UTC), weekends excluded.
  maintenance_policy {
    recurring_window {
      start_time = "2025-01-01T01:00:00Z"
      end_time   = "2025-01-01T05:00:00Z"
      recurrence = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    }
  }

  deletion_protection = var.deletion_protection

  depends_on = [google_project_service.enabled]
}

resource "google_container_node_pool" "app" {
  name     = "app"
  cluster  = google_container_cluster.taskit.id
  location = var.region

  autoscaling {
    min_node_count  = var.node_min_count_per_zone
    max_node_count  = var.node_max_count_per_zone
    location_policy = "BALANCED"
  }

  management {
    auto_repair  = true
    auto_upgrade = true
  }

  # One extra node at a time during upgrades: capacity never drops (PDBs hold).
  upgrade_settings {
    strategy        = "SURGE"
    max_surge       = 1
    max_unavailable = 0
  }

  node_config {
    machine_type = var.node_machine_type
    disk_type    = "pd-balanced"
    disk_size_gb = 50
    image_type   = "COS_CONTAINERD"

    # Least privilege: a dedicated account with the node roles only (iam.tf), instead of
    # the Compute Engine default account (Editor).
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]

    # Pods get Workload Identity credentials from the GKE metadata server, never the node's.
    workload_metadata_config {
      mode = "GKE_METADATA"
    }

    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }

    metadata = {
      disable-legacy-endpoints = "true"
    }

    labels = {
      pool = "app"
    }
  }
}
