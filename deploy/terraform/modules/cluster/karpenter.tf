# Karpenter provisions the nodes workloads run on: its AWS side (controller role with a Pod
# Identity association, node role, interruption queue) from the EKS module's karpenter
# submodule, its controller from the upstream chart on the system nodes, and one NodePool with
# its EC2NodeClass. The manifests are templates (templates/) so that deploy/ci/terraform_check.py
# can render them and validate them against Karpenter's v1 CRD schemas.

module "karpenter" {
  # checkov:skip=CKV_TF_1:Pinned to an exact release of the Terraform Registry, the form these community modules are published, reviewed and upgraded in (a git commit would bypass the registry)
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "21.9.0"

  cluster_name = module.eks.cluster_name
  namespace    = "kube-system"

  # The EC2NodeClass names this role.
  node_iam_role_use_name_prefix = false
  node_iam_role_name            = "${var.name}-karpenter-node"
  node_iam_role_additional_policies = {
    AmazonSSMManagedInstanceCore = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }

  create_pod_identity_association = true

  tags = local.tags
}

resource "helm_release" "karpenter" {
  name       = "karpenter"
  namespace  = "kube-system"
  repository = "oci://public.ecr.aws/karpenter"
  chart      = "karpenter"
  version    = var.karpenter.chart_version
  wait       = true

  values = [yamlencode({
    # On the system node group: never on a node it manages itself.
    nodeSelector = { "arcade/pool" = "system" }
    tolerations  = [{ key = "CriticalAddonsOnly", operator = "Exists" }]
    dnsPolicy    = "Default"
    settings = {
      clusterName       = module.eks.cluster_name
      clusterEndpoint   = module.eks.cluster_endpoint
      interruptionQueue = module.karpenter.queue_name
    }
    webhook = { enabled = false }
  })]

  depends_on = [module.eks]
}

resource "kubectl_manifest" "karpenter_node_class" {
  yaml_body = templatefile("${path.module}/templates/ec2nodeclass.yaml.tftpl", {
    cluster_name = module.eks.cluster_name
    node_role    = module.karpenter.node_iam_role_name
    ami_alias    = var.karpenter.ami_alias
    environment  = var.environment
  })

  depends_on = [helm_release.karpenter]
}

resource "kubectl_manifest" "karpenter_node_pool" {
  yaml_body = templatefile("${path.module}/templates/nodepool.yaml.tftpl", {
    instance_categories = var.karpenter.instance_categories
    capacity_types      = var.karpenter.capacity_types
    zones               = local.azs
    cpu_limit           = var.karpenter.cpu_limit
    memory_limit_gib    = var.karpenter.memory_limit_gib
  })

  depends_on = [kubectl_manifest.karpenter_node_class]
}
