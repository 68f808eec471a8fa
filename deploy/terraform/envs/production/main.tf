# Production: a NAT gateway per zone (egress survives a zone), three system nodes, on-demand
# capacity only, and room to grow.

locals {
  tags = {
    project     = "arcade"
    environment = "production"
    managed-by  = "terraform"
  }
}

module "cluster" {
  source = "../../modules/cluster"

  name        = "arcade-production"
  environment = "production"

  availability_zone_ids = var.availability_zone_ids
  kubernetes_version    = "1.33"
  # The chart's networkPolicy.egressCidrs, should managed services in this VPC replace the
  # in-cluster operators (production reaches NATS, Redis and PostgreSQL by label today).
  vpc_cidr                     = "10.20.0.0/16"
  single_nat_gateway           = false
  endpoint_public_access_cidrs = var.admin_cidrs

  system_node_group = {
    instance_types = ["m6i.large"]
    min_size       = 3
    max_size       = 5
    desired_size   = 3
  }

  karpenter = {
    chart_version       = "1.6.0"
    instance_categories = ["c", "m"]
    capacity_types      = ["on-demand"]
    ami_alias           = "al2023@latest"
    cpu_limit           = 256
    memory_limit_gib    = 1024
  }

  dns_zone_ids   = var.dns_zone_ids
  secrets_prefix = "arcade-production/"

  database_backups = {
    namespace       = "arcade-production"
    service_account = "arcade-db"
    retention_days  = 30
  }

  argocd_application_manifest = file("${path.module}/../../../argocd/apps/argo-cd.yaml")
  gitops_root_manifest        = file("${path.module}/../../../argocd/bootstrap/root.yaml")
  gitops_exclude              = "apps/arcade-staging.yaml"

  tags = local.tags
}
