# The network and the cluster: a VPC over three availability zones and EKS with a managed node
# group for the cluster's add-ons. Workloads run on nodes Karpenter provisions (karpenter.tf);
# add-ons reach AWS through EKS Pod Identity (pod-identity.tf).

# The three zones by their IDs (the same physical zones in every account, unlike the names):
# the subnets are laid out per zone, so the set must not change when AWS opens another.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-id"
    values = var.availability_zone_ids
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Zone names in the order of availability_zone_ids.
  azs = [
    for id in var.availability_zone_ids :
    data.aws_availability_zones.selected.names[index(data.aws_availability_zones.selected.zone_ids, id)]
  ]
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  # The /16 split per zone: private /19s for nodes and pods (the VPC CNI gives pods VPC
  # addresses), public /24s for load balancers, intra /24s for the control plane's ENIs.
  private_subnets = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 3, i)]
  public_subnets  = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 96 + i)]
  intra_subnets   = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 8, 100 + i)]

  tags = merge(var.tags, { "arcade/environment" = var.environment })
}

module "vpc" {
  # checkov:skip=CKV_TF_1:Pinned to an exact release of the Terraform Registry, the form these community modules are published, reviewed and upgraded in (a git commit would bypass the registry)
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.0.1"

  name = var.name
  cidr = var.vpc_cidr
  azs  = local.azs

  private_subnets = local.private_subnets
  public_subnets  = local.public_subnets
  intra_subnets   = local.intra_subnets

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway
  enable_dns_hostnames   = true
  enable_dns_support     = true

  # Load balancers of ingress-nginx go to the public subnets; Karpenter finds its subnets by tag.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = 1
    "karpenter.sh/discovery"          = var.name
  }

  # Every accepted and rejected flow, kept in CloudWatch Logs.
  enable_flow_log                                 = true
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = 90

  tags = local.tags
}

module "eks" {
  # checkov:skip=CKV_TF_1:Pinned to an exact release of the Terraform Registry, the form these community modules are published, reviewed and upgraded in (a git commit would bypass the registry)
  source  = "terraform-aws-modules/eks/aws"
  version = "21.9.0"

  name               = var.name
  kubernetes_version = var.kubernetes_version

  endpoint_private_access      = true
  endpoint_public_access       = length(var.endpoint_public_access_cidrs) > 0
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs

  # Access entries only (no aws-auth ConfigMap); whoever applies this is a cluster admin, so
  # the same apply can install Karpenter and Argo CD.
  authentication_mode                      = "API"
  enable_cluster_creator_admin_permissions = true

  enabled_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  vpc_id                   = module.vpc.vpc_id
  subnet_ids               = module.vpc.private_subnets
  control_plane_subnet_ids = module.vpc.intra_subnets

  addons = {
    coredns    = {}
    kube-proxy = {}
    # The VPC CNI and the Pod Identity agent must run before any node joins.
    vpc-cni = {
      before_compute = true
    }
    eks-pod-identity-agent = {
      before_compute = true
    }
    # Volumes of the bundled stores (staging) and of CloudNativePG; its role is in
    # pod-identity.tf. The add-on's default StorageClass is encrypted gp3.
    aws-ebs-csi-driver = {
      configuration_values = jsonencode({
        defaultStorageClass = { enabled = true }
      })
    }
  }

  eks_managed_node_groups = {
    system = {
      instance_types = var.system_node_group.instance_types
      min_size       = var.system_node_group.min_size
      max_size       = var.system_node_group.max_size
      desired_size   = var.system_node_group.desired_size

      labels = {
        "arcade/pool" = "system"
      }
      # Only pods that tolerate this (CoreDNS, the EKS add-ons, Karpenter, Argo CD) land here.
      taints = {
        addons = {
          key    = "CriticalAddonsOnly"
          value  = "true"
          effect = "NO_SCHEDULE"
        }
      }
    }
  }

  # Karpenter's nodes join with this security group (found by tag).
  node_security_group_tags = {
    "karpenter.sh/discovery" = var.name
  }

  tags = local.tags
}
