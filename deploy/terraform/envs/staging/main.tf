# Staging: the smallest cluster that still spans three zones. One NAT gateway, two small system
# nodes, Karpenter may use spot capacity, and a tight ceiling on what the NodePool may hold.

locals {
  tags = {
    project     = "arcade"
    environment = "staging"
    managed-by  = "terraform"
  }
}

module "cluster" {
  source = "../../modules/cluster"

  name        = "arcade-staging"
  environment = "staging"

  availability_zone_ids        = var.availability_zone_ids
  kubernetes_version           = "1.33"
  vpc_cidr                     = "10.10.0.0/16"
  single_nat_gateway           = true
  endpoint_public_access_cidrs = var.admin_cidrs

  system_node_group = {
    instance_types = ["t3.large"]
    min_size       = 2
    max_size       = 3
    desired_size   = 2
  }

  karpenter = {
    chart_version       = "1.6.0"
    instance_categories = ["t", "m"]
    capacity_types      = ["spot", "on-demand"]
    ami_alias           = "al2023@latest"
    cpu_limit           = 32
    memory_limit_gib    = 128
  }

  dns_zone_ids   = var.dns_zone_ids
  secrets_prefix = "arcade-staging/"

  # Staging runs the chart's bundled PostgreSQL; the bucket is there for a CloudNativePG
  # Cluster named arcade-db when staging gets one.
  database_backups = {
    namespace       = "arcade-staging"
    service_account = "arcade-db"
    retention_days  = 7
  }

  argocd_application_manifest = file("${path.module}/../../../argocd/apps/argo-cd.yaml")
  gitops_root_manifest        = file("${path.module}/../../../argocd/bootstrap/root.yaml")
  gitops_exclude              = "apps/arcade-production.yaml"

  tags = local.tags
}
