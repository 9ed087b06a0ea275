resource "google_artifact_registry_repository" "images" {
  repository_id = "taskit"
  location      = var.region
  format        = "DOCKER"
  description   = "Taskit container images, tagged with the commit (cloudbuild.yaml)"

  docker_config {
    # A tag (the git commit) always names the same image: the pipeline tags by commit and
    # never pushes a tag twice.
    immutable_tags = true
  }

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 20
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s"
    }
  }

  depends_on = [google_project_service.enabled]
}

# BuildKit's layer cache (one mutable tag per image), apart from the immutable images.
resource "google_artifact_registry_repository" "build_cache" {
  repository_id = "taskit-build-cache"
  location      = var.region
  format        = "DOCKER"
  description   = "BuildKit cache of the Taskit images (cloudbuild.yaml)"

  cleanup_policies {
    id     = "delete-stale"
    action = "DELETE"
    condition {
      older_than = "1209600s"
    }
  }

  depends_on = [google_project_service.enabled]
}

# The nodes pull images; nothing else in the cluster may.
resource "google_artifact_registry_repository_iam_member" "nodes_reader" {
  location   = google_artifact_registry_repository.images.location
  repository = google_artifact_registry_repository.images.name
  role       = "roles/artifactregistry.reader"
  member     = google_service_account.nodes.member
}
