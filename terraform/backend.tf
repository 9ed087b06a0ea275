# State in a versioned GCS bucket, so that a team shares it and keeps its history. The
# bucket is created once, outside this configuration (deploy guide, step 1), and passed at
# init time (partial configuration keeps project-specific names out of git):
#
#   terraform init -backend-config="bucket=${PROJECT_ID}-tfstate"
terraform {
  backend "gcs" {
    prefix = "taskit/gke"
  }
}
