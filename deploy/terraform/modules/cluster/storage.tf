# Where the cluster keeps data outside itself: the S3 bucket of CloudNativePG's backups (base
# backups and WAL archive) and the ECR repository of the Arcade image, each with its own
# KMS key.

data "aws_iam_policy_document" "account_key" {
  # checkov:skip=CKV_AWS_109:A key policy's Resource "*" is this key only; the account administers its key, as AWS's default key policy does
  # checkov:skip=CKV_AWS_111:A key policy's Resource "*" is this key only; the account administers its key, as AWS's default key policy does
  # checkov:skip=CKV_AWS_356:A key policy's Resource "*" is this key only; the account administers its key, as AWS's default key policy does
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "backups" {
  description             = "Database backups of ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.account_key.json
  tags                    = local.tags
}

resource "aws_kms_alias" "backups" {
  name          = "alias/${var.name}-backups"
  target_key_id = aws_kms_key.backups.key_id
}

resource "aws_s3_bucket" "backups" {
  # checkov:skip=CKV_AWS_18:Only CloudNativePG writes here, through its Pod Identity role; CloudTrail records who used the role
  # checkov:skip=CKV_AWS_144:A copy in a second region is the disaster-recovery choice of the production account, not of the module; versioning and the retention window protect against deletion
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the backup bucket; CloudNativePG reports backup status in the cluster
  bucket = "${var.name}-db-backups-${local.account_id}"
  tags   = local.tags
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.backups.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket                  = aws_s3_bucket.backups.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  # CloudNativePG deletes backups past its retention policy itself; this is the backstop for
  # objects it no longer knows about, a few days later.
  rule {
    id     = "expire-old-backups"
    status = "Enabled"

    filter {}

    expiration {
      days = var.database_backups.retention_days + 7
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  depends_on = [aws_s3_bucket_versioning.backups]
}

data "aws_iam_policy_document" "backups_bucket" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.backups.arn, "${aws_s3_bucket.backups.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "backups" {
  bucket = aws_s3_bucket.backups.id
  policy = data.aws_iam_policy_document.backups_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.backups]
}

resource "aws_kms_key" "registry" {
  description             = "Images of ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.account_key.json
  tags                    = local.tags
}

# The Arcade image for clusters that pull from the account's own registry (a copy of the
# signed image the release workflow pushes to GHCR, signature included: `cosign copy`).
resource "aws_ecr_repository" "arcade" {
  name                 = "${var.name}/arcade"
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.registry.arn
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "arcade" {
  repository = aws_ecr_repository.arcade.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest 100 images (rollback targets); older ones go"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = 100
      }
      action = { type = "expire" }
    }]
  })
}
