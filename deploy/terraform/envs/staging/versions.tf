terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.15, < 7.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0, < 4.0"
    }
    kubectl = {
      source  = "alekc/kubectl"
      version = ">= 2.1, < 3.0"
    }
  }

  # The bucket and key of deploy/terraform/bootstrap (its backend_config output); the lock is
  # an object next to the state (use_lockfile), so two applies never run at once.
  backend "s3" {
    bucket       = "arcade-terraform-state"
    key          = "envs/staging/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    kms_key_id   = "alias/arcade-terraform-state"
    use_lockfile = true
  }
}
