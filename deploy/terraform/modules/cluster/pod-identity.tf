# EKS Pod Identity: each add-on's service account gets an IAM role through an association, no
# OIDC provider, no role annotations in the charts. The EKS Pod Identity agent (an EKS add-on,
# main.tf) hands the pods their credentials. Every role is assumable only by the EKS Pods
# service of this account and allows only what its add-on does.

locals {
  zone_arns = [for id in var.dns_zone_ids : "arn:${local.partition}:route53:::hostedzone/${id}"]

  pod_identities = {
    external-dns = {
      namespace       = var.service_accounts.external_dns.namespace
      service_account = var.service_accounts.external_dns.name
      inline_policy   = true
      policy          = data.aws_iam_policy_document.external_dns.json
      managed_policy  = null
    }
    cert-manager = {
      namespace       = var.service_accounts.cert_manager.namespace
      service_account = var.service_accounts.cert_manager.name
      inline_policy   = true
      policy          = data.aws_iam_policy_document.cert_manager.json
      managed_policy  = null
    }
    external-secrets = {
      namespace       = var.service_accounts.external_secrets.namespace
      service_account = var.service_accounts.external_secrets.name
      inline_policy   = true
      policy          = data.aws_iam_policy_document.external_secrets.json
      managed_policy  = null
    }
    database-backups = {
      namespace       = var.database_backups.namespace
      service_account = var.database_backups.service_account
      inline_policy   = true
      policy          = data.aws_iam_policy_document.database_backups.json
      managed_policy  = null
    }
    image-registry = {
      namespace       = var.service_accounts.image_registry.namespace
      service_account = var.service_accounts.image_registry.name
      inline_policy   = true
      policy          = data.aws_iam_policy_document.image_registry.json
      managed_policy  = null
    }
    ebs-csi = {
      namespace       = "kube-system"
      service_account = "ebs-csi-controller-sa"
      inline_policy   = false
      policy          = null
      managed_policy  = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
    }
  }
}

data "aws_iam_policy_document" "pod_identity_trust" {
  statement {
    sid     = "EksPodIdentity"
    actions = ["sts:AssumeRole", "sts:TagSession"]

    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "pod_identity" {
  for_each = local.pod_identities

  name               = "${var.name}-${each.key}"
  description        = "EKS Pod Identity of ${each.value.namespace}/${each.value.service_account} in ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "pod_identity" {
  # Filtered on a flag known at plan time: the policies' JSON is not (bucket and key ARNs).
  for_each = { for k, v in local.pod_identities : k => v if v.inline_policy }

  name   = each.key
  role   = aws_iam_role.pod_identity[each.key].id
  policy = each.value.policy
}

resource "aws_iam_role_policy_attachment" "pod_identity" {
  for_each = { for k, v in local.pod_identities : k => v if v.managed_policy != null }

  role       = aws_iam_role.pod_identity[each.key].name
  policy_arn = each.value.managed_policy
}

resource "aws_eks_pod_identity_association" "this" {
  for_each = local.pod_identities

  cluster_name    = module.eks.cluster_name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = aws_iam_role.pod_identity[each.key].arn
  tags            = local.tags
}

# external-dns: the records of the given zones.
data "aws_iam_policy_document" "external_dns" {
  statement {
    sid       = "ChangeRecords"
    actions   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResources"]
    resources = local.zone_arns
  }

  statement {
    sid       = "FindZones"
    actions   = ["route53:ListHostedZones"]
    resources = ["*"]
  }
}

# cert-manager, DNS-01: only the _acme-challenge TXT records of the given zones.
data "aws_iam_policy_document" "cert_manager" {
  statement {
    sid       = "ChallengeRecords"
    actions   = ["route53:ChangeResourceRecordSets"]
    resources = local.zone_arns

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "route53:ChangeResourceRecordSetsRecordTypes"
      values   = ["TXT"]
    }

    condition {
      test     = "ForAllValues:StringLike"
      variable = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
      values   = ["_acme-challenge.*"]
    }
  }

  statement {
    sid       = "ReadRecords"
    actions   = ["route53:ListResourceRecordSets"]
    resources = local.zone_arns
  }

  statement {
    sid       = "WaitForChanges"
    actions   = ["route53:GetChange"]
    resources = ["arn:${local.partition}:route53:::change/*"]
  }

  statement {
    sid       = "FindZones"
    actions   = ["route53:ListHostedZonesByName"]
    resources = ["*"]
  }
}

# External Secrets: read this environment's secrets, nothing else.
data "aws_iam_policy_document" "external_secrets" {
  statement {
    sid     = "ReadEnvironmentSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:ListSecretVersionIds"]
    resources = [
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.secrets_prefix}*",
    ]
  }
}

# CloudNativePG (barman-cloud): base backups and WAL into the backup bucket.
data "aws_iam_policy_document" "database_backups" {
  statement {
    sid       = "Bucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.backups.arn]
  }

  statement {
    sid       = "Objects"
    actions   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = ["${aws_s3_bucket.backups.arn}/*"]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.backups.arn]
  }
}

# The image-signature check (Kyverno): read images and their signatures from the Arcade
# repository when a cluster pulls from ECR.
data "aws_iam_policy_document" "image_registry" {
  statement {
    sid       = "Login"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "ReadArcadeImages"
    actions = [
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchCheckLayerAvailability",
      "ecr:DescribeImages",
      "ecr:ListImages",
    ]
    resources = [aws_ecr_repository.arcade.arn]
  }

  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.registry.arn]
  }
}
