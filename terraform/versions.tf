terraform {
  # Terraform 1.6+ or OpenTofu 1.6+.
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Pinned to a minor series: patch releases only, reviewed upgrades via the lock file.
      version = "~> 6.49.0"
    }
  }
}
