variable "project_id" {
  description = "GCP project that hosts Taskit."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a GCP project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the regional (three-zone) cluster, the network and the registry."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a GCP region such as europe-west1, not a zone."
  }
}

variable "cluster_name" {
  description = "Name of the GKE cluster; also prefixes the network resources."
  type        = string
  default     = "taskit"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 2-40 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "release_channel" {
  description = "GKE release channel: the control plane and nodes are upgraded automatically within it."
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the cluster subnet (node IPs)."
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be an IPv4 CIDR block."
  }
}

variable "pods_cidr" {
  description = "Secondary range for pod IPs (VPC-native cluster)."
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.pods_cidr, 0))
    error_message = "pods_cidr must be an IPv4 CIDR block."
  }
}

variable "services_cidr" {
  description = "Secondary range for Service cluster IPs."
  type        = string
  default     = "10.30.0.0/20"

  validation {
    condition     = can(cidrhost(var.services_cidr, 0))
    error_message = "services_cidr must be an IPv4 CIDR block."
  }
}

variable "master_ipv4_cidr" {
  description = "The /28 that the private control plane's endpoint peers into the VPC with."
  type        = string
  default     = "172.16.0.0/28"

  validation {
    condition     = can(cidrhost(var.master_ipv4_cidr, 0)) && endswith(var.master_ipv4_cidr, "/28")
    error_message = "master_ipv4_cidr must be an IPv4 /28 block."
  }
}

variable "master_authorized_networks" {
  description = "CIDR blocks allowed to reach the control plane's public endpoint (kubectl, CI). Empty: nobody outside Google Cloud."
  type = list(object({
    cidr_block   = string
    display_name = string
  }))
  default = []

  validation {
    condition     = alltrue([for n in var.master_authorized_networks : can(cidrhost(n.cidr_block, 0))])
    error_message = "Every master_authorized_networks cidr_block must be an IPv4 CIDR block."
  }
}

variable "node_machine_type" {
  description = "Machine type of the application node pool."
  type        = string
  default     = "e2-standard-4"
}

variable "node_min_count_per_zone" {
  description = "Cluster autoscaler lower bound, per zone (the pool spans the region's three zones)."
  type        = number
  default     = 1

  validation {
    condition     = var.node_min_count_per_zone >= 1 && floor(var.node_min_count_per_zone) == var.node_min_count_per_zone
    error_message = "node_min_count_per_zone must be a whole number of at least 1 (the gateway spreads over all zones)."
  }
}

variable "node_max_count_per_zone" {
  description = "Cluster autoscaler upper bound, per zone."
  type        = number
  default     = 4

  validation {
    condition     = var.node_max_count_per_zone >= 1 && var.node_max_count_per_zone <= 100 && floor(var.node_max_count_per_zone) == var.node_max_count_per_zone
    error_message = "node_max_count_per_zone must be a whole number from 1 to 100."
  }
}

variable "kubernetes_namespace" {
  description = "Namespace of the gke overlay; Workload Identity binds its service accounts."
  type        = string
  default     = "taskit"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.kubernetes_namespace))
    error_message = "kubernetes_namespace must be a DNS-1123 label."
  }
}

variable "domain" {
  description = "Public host name of the web UI and API (an A record to the ingress IP is needed for the managed certificate)."
  type        = string
  default     = "taskit.example.com"

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain must be a fully qualified host name in lower case."
  }
}

variable "influx_url" {
  description = "URL of the production InfluxDB 2 (for example InfluxDB Cloud), written into the gke overlay settings."
  type        = string
  default     = "https://influxdb.example.com"

  validation {
    condition     = can(regex("^https?://", var.influx_url))
    error_message = "influx_url must be an http(s) URL."
  }
}

variable "deletion_protection" {
  description = "Refuse `terraform destroy` of the cluster. Turn off only to tear down on purpose."
  type        = bool
  default     = true
}
