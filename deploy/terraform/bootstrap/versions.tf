terraform {
  # S3-native state locking (use_lockfile) needs 1.10 or later.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.15, < 7.0"
    }
  }

  # This root creates the state bucket, so its own state stays local: keep the
  # terraform.tfstate this writes (it holds no secret) or move it into the bucket afterwards
  # with a backend "s3" block and `terraform init -migrate-state`.
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
