output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API; the environment root's helm and kubectl providers connect to it."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API (public)."
  value       = module.eks.cluster_certificate_authority_data
}

output "region" {
  description = "AWS region of the cluster."
  value       = local.region
}

output "availability_zones" {
  description = "The three availability zones the VPC, the system nodes and the NodePool span."
  value       = local.azs
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "vpc_cidr" {
  description = "CIDR of the VPC: the chart's networkPolicy.egressCidrs for managed databases, caches and brokers inside it."
  value       = var.vpc_cidr
}

output "private_subnet_ids" {
  description = "Private subnets (nodes, pods, managed databases)."
  value       = module.vpc.private_subnets
}

output "node_security_group_id" {
  description = "Security group of every node; managed databases and caches allow it on their ports."
  value       = module.eks.node_security_group_id
}

output "karpenter_node_role_name" {
  description = "IAM role of the nodes Karpenter launches (named by the EC2NodeClass)."
  value       = module.karpenter.node_iam_role_name
}

output "karpenter_interruption_queue" {
  description = "SQS queue of spot interruptions and instance events Karpenter drains nodes on."
  value       = module.karpenter.queue_name
}

output "pod_identity_role_arns" {
  description = "IAM role of each add-on, by name (external-dns, cert-manager, external-secrets, database-backups, image-registry, ebs-csi)."
  value       = { for k, r in aws_iam_role.pod_identity : k => r.arn }
}

output "database_backup_bucket" {
  description = "S3 bucket of CloudNativePG's backups."
  value       = aws_s3_bucket.backups.id
}

output "image_repository_url" {
  description = "URL of the ECR repository of the Arcade image."
  value       = aws_ecr_repository.arcade.repository_url
}

output "argocd_namespace" {
  description = "Namespace Argo CD runs in (the Secret argocd-notifications-secret goes there)."
  value       = helm_release.argocd.namespace
}

output "helm_values" {
  description = "The values of this cluster that the platform Applications and the Arcade chart need, by consumer; the service accounts are those of the Pod Identity associations, so no role annotation is needed."
  value = {
    arcade = {
      networkPolicy = { egressCidrs = [var.vpc_cidr] }
    }
    external_dns = {
      provider       = { name = "aws" }
      env            = [{ name = "AWS_DEFAULT_REGION", value = local.region }]
      txtOwnerId     = var.name
      serviceAccount = { name = var.service_accounts.external_dns.name }
    }
    cert_manager_dns01 = {
      route53 = { region = local.region, hostedZoneID = var.dns_zone_ids[0] }
    }
    external_secrets_store = {
      aws = { service = "SecretsManager", region = local.region, prefix = var.secrets_prefix }
    }
    cloudnative_pg_backup = {
      destinationPath = "s3://${aws_s3_bucket.backups.id}/"
      serviceAccount  = var.database_backups.service_account
      retentionDays   = var.database_backups.retention_days
    }
    karpenter = {
      nodePool = "workloads"
    }
  }
}
