terraform {
  # Terraform 1.6+ or OpenTofu 1.6+.
  required_version = ">= 1.6.0"

  required_providers {
    google = {
      source = "hashicorp/google"
      # Pinned to a minor series: patch releases only. The first `terraform init` writes
      # .terraform.lock.hcl (the provider's checksums): commit it, so that every later init
      # and the pipeline's operators get exactly that build (README, step 2).
      version = "~> 6.49.0"
    }
  }
}
