# A dedicated VPC-native network: nodes on the primary range, pods and Services on
# secondary ranges, no public IPs on nodes (outbound through Cloud NAT).

resource "google_compute_network" "vpc" {
  name                    = "${var.cluster_name}-vpc"
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"

  depends_on = [google_project_service.enabled]
}

resource "google_compute_subnetwork" "nodes" {
  name          = "${var.cluster_name}-nodes"
  network       = google_compute_network.vpc.id
  region        = var.region
  ip_cidr_range = var.subnet_cidr

  # Private nodes reach Google APIs (Artifact Registry, Logging, ...) without NAT.
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }

  log_config {
    aggregation_interval = "INTERVAL_5_SEC"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_router" "nat" {
  name    = "${var.cluster_name}-router"
  network = google_compute_network.vpc.id
  region  = var.region
}

# The fixed source addresses of all outbound traffic (output nat_ips): what managed
# MongoDB, RabbitMQ and InfluxDB allow-list.
resource "google_compute_address" "nat" {
  count = var.nat_ip_count

  name         = "${var.cluster_name}-nat-${count.index}"
  region       = var.region
  address_type = "EXTERNAL"

  depends_on = [google_project_service.enabled]
}

# Outbound internet for private nodes and pods (managed MongoDB, RabbitMQ, InfluxDB Cloud).
resource "google_compute_router_nat" "nat" {
  name                               = "${var.cluster_name}-nat"
  router                             = google_compute_router.nat.name
  region                             = var.region
  nat_ip_allocate_option             = "MANUAL_ONLY"
  nat_ips                            = google_compute_address.nat[*].self_link
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.nodes.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# The ingress' stable public IP: point the domain's A record here before the managed
# certificate can be issued.
resource "google_compute_global_address" "ingress" {
  name = "${var.cluster_name}-ingress"

  depends_on = [google_project_service.enabled]
}

# TLS 1.2+ with the MODERN profile, referenced by the ingress' FrontendConfig.
resource "google_compute_ssl_policy" "modern" {
  name            = "${var.cluster_name}-modern-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"

  depends_on = [google_project_service.enabled]
}

# Private service access: one range of taskit-vpc handed to Google's service producers
# (Memorystore here; also Atlas' or a broker's peering if chosen that way), so that the
# managed services get private addresses in the VPC and nothing leaves it.
resource "google_compute_global_address" "private_services" {
  name          = "${var.cluster_name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  network       = google_compute_network.vpc.id
  address       = split("/", var.private_services_cidr)[0]
  prefix_length = tonumber(split("/", var.private_services_cidr)[1])

  depends_on = [google_project_service.enabled]
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.vpc.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]

  depends_on = [google_project_service.enabled]
}
