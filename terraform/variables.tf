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
    # Service account IDs are 6-30 characters: "${cluster_name}-cloudbuild" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{0,17}[a-z0-9]$", var.cluster_name))
    error_message = "cluster_name must be 2-19 lowercase letters, digits or hyphens, starting with a letter (it prefixes service account IDs of at most 30 characters)."
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
  description = "URL of the production InfluxDB (InfluxDB Cloud Dedicated/Serverless, or a self-hosted 1.8/2.x behind TLS), written into the gke overlay settings."
  type        = string
  default     = "https://influxdb.example.com"

  validation {
    condition     = can(regex("^https?://", var.influx_url))
    error_message = "influx_url must be an http(s) URL."
  }
}

variable "influx_org" {
  description = "Organisation of the production InfluxDB (InfluxDB Cloud names it after the account)."
  type        = string
  default     = "taskit"

  validation {
    condition     = length(var.influx_org) > 0 && !can(regex("[\\s=]", var.influx_org))
    error_message = "influx_org must be non-empty, without spaces or '='."
  }
}

variable "influx_bucket" {
  description = "Bucket of the production InfluxDB the services and Telegraf write to."
  type        = string
  default     = "taskit"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*$", var.influx_bucket))
    error_message = "influx_bucket must be letters, digits, '.', '_' or '-'."
  }
}

variable "private_services_cidr" {
  description = "Range of taskit-vpc reserved for private service access (Memorystore); the gateway's Redis egress allows exactly this range."
  type        = string
  default     = "10.40.0.0/20"

  validation {
    condition     = can(cidrhost(var.private_services_cidr, 0)) && tonumber(split("/", var.private_services_cidr)[1]) <= 24
    error_message = "private_services_cidr must be an IPv4 CIDR block of /24 or larger."
  }
}

variable "mongodb_egress_cidrs" {
  description = "Addresses of MongoDB Atlas' private endpoints (one /32 per Private Service Connect endpoint): the only MongoDB egress the gke overlay allows."
  type        = list(string)
  default     = ["10.10.15.10/32"]

  validation {
    condition     = length(var.mongodb_egress_cidrs) > 0 && alltrue([for cidr in var.mongodb_egress_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "mongodb_egress_cidrs must list at least one IPv4 CIDR block, none of them 0.0.0.0/0."
  }
}

variable "influx_host" {
  description = "Host name of the production InfluxDB (influx_url's host): the FQDN network policy allows HTTPS to this name only."
  type        = string
  default     = "influxdb.example.com"

  validation {
    condition     = can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.influx_host))
    error_message = "influx_host must be a fully qualified host name in lower case."
  }
}

variable "redis_sessions_memory_gb" {
  description = "Memory of the Memorystore instance for sessions, rate limits and locks (STANDARD_HA, noeviction)."
  type        = number
  default     = 1

  validation {
    condition     = var.redis_sessions_memory_gb >= 1 && var.redis_sessions_memory_gb <= 300
    error_message = "redis_sessions_memory_gb must be from 1 to 300."
  }
}

variable "redis_cache_memory_gb" {
  description = "Memory of the Memorystore instance for the task-list cache (allkeys-lru)."
  type        = number
  default     = 1

  validation {
    condition     = var.redis_cache_memory_gb >= 1 && var.redis_cache_memory_gb <= 300
    error_message = "redis_cache_memory_gb must be from 1 to 300."
  }
}

variable "redis_cache_tier" {
  description = "Tier of the cache instance: BASIC (a lost node is a cold cache) or STANDARD_HA."
  type        = string
  default     = "BASIC"

  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.redis_cache_tier)
    error_message = "redis_cache_tier must be BASIC or STANDARD_HA."
  }
}

variable "armor_rate_limit_per_minute" {
  description = "Requests one client address may send per minute before Cloud Armor answers 429."
  type        = number
  default     = 600

  validation {
    condition     = var.armor_rate_limit_per_minute >= 60 && floor(var.armor_rate_limit_per_minute) == var.armor_rate_limit_per_minute
    error_message = "armor_rate_limit_per_minute must be a whole number of at least 60."
  }
}

variable "nat_ip_count" {
  description = "Static external IPs of Cloud NAT: the cluster's source addresses on the internet (for InfluxDB's allow-list, where it has one)."
  type        = number
  default     = 2

  validation {
    condition     = var.nat_ip_count >= 1 && var.nat_ip_count <= 16 && floor(var.nat_ip_count) == var.nat_ip_count
    error_message = "nat_ip_count must be a whole number from 1 to 16."
  }
}

variable "github_owner" {
  description = "Owner of the GitHub repository the Cloud Build trigger builds. Empty (the default): no trigger. Set it only after the repository is connected to Cloud Build (docs/deployment.md, step 9), or the apply fails."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([A-Za-z0-9][A-Za-z0-9-]{0,38})?$", var.github_owner))
    error_message = "github_owner must be empty or a GitHub user or organisation name."
  }
}

variable "github_repository" {
  description = "Name of the GitHub repository the Cloud Build trigger builds."
  type        = string
  default     = "taskit"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,100}$", var.github_repository))
    error_message = "github_repository must be a GitHub repository name."
  }
}

variable "github_branch" {
  description = "Branch whose pushes are deployed."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.github_branch))
    error_message = "github_branch must be a branch name."
  }
}

variable "deletion_protection" {
  description = "Refuse `terraform destroy` of the cluster. Turn off only to tear down on purpose."
  type        = bool
  default     = true
}
