variable "name" {
  description = "Name of the cluster and prefix of everything the module creates (arcade-staging, arcade-production)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "Lower case letters, digits and dashes, 3 to 31 characters, starting with a letter."
  }
}

variable "environment" {
  description = "The Arcade environment this cluster runs: staging or production."
  type        = string

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "staging or production."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (<major>.<minor>); the chart needs 1.30 or later."
  type        = string
  default     = "1.33"
}

variable "availability_zone_ids" {
  description = "The three availability zones of the VPC, the system nodes and the NodePool, by zone ID (euw1-az1, ...)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zone_ids) == 3 && length(distinct(var.availability_zone_ids)) == 3
    error_message = "Exactly three different zone IDs."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (a /16): private subnets for nodes and pods, public ones for load balancers, intra ones for the control plane, one of each per availability zone. The chart's networkPolicy.egressCidrs of the environment is this block."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "An IPv4 /16, for example 10.10.0.0/16."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for the three zones (cheaper; egress stops when its zone fails) instead of one per zone."
  type        = bool
  default     = false
}

variable "endpoint_public_access_cidrs" {
  description = "Networks allowed to reach the Kubernetes API from the internet (Terraform, kubectl); empty keeps the endpoint private to the VPC."
  type        = list(string)
  default     = []
}

variable "system_node_group" {
  description = "The EKS managed node group for cluster add-ons (CoreDNS, Karpenter, Argo CD, the controllers); tainted CriticalAddonsOnly so workloads go to Karpenter's nodes."
  type = object({
    instance_types = list(string)
    min_size       = number
    max_size       = number
    desired_size   = number
  })

  validation {
    condition     = var.system_node_group.min_size >= 2 && var.system_node_group.min_size <= var.system_node_group.desired_size && var.system_node_group.desired_size <= var.system_node_group.max_size
    error_message = "At least two system nodes (Karpenter and Argo CD survive one), and min_size <= desired_size <= max_size."
  }
}

variable "karpenter" {
  description = "Karpenter's controller version and the NodePool for workloads: instance categories, capacity types (on-demand, spot), the AMI alias and the most CPU and memory the pool may hold."
  type = object({
    chart_version       = string
    instance_categories = list(string)
    capacity_types      = list(string)
    ami_alias           = string
    cpu_limit           = number
    memory_limit_gib    = number
  })

  validation {
    condition     = alltrue([for t in var.karpenter.capacity_types : contains(["on-demand", "spot"], t)])
    error_message = "capacity_types are on-demand and/or spot."
  }
}

variable "dns_zone_ids" {
  description = "Route 53 hosted zones whose records external-dns manages and in which cert-manager answers DNS-01 challenges; the first is the one cert-manager is given."
  type        = list(string)

  validation {
    condition     = length(var.dns_zone_ids) > 0
    error_message = "At least one hosted zone: the environment's public host names live there."
  }
}

variable "secrets_prefix" {
  description = "Prefix of the AWS Secrets Manager secrets External Secrets may read for this environment (arcade-staging/, arcade-production/)."
  type        = string

  validation {
    condition     = endswith(var.secrets_prefix, "/")
    error_message = "End the prefix with a slash, so arcade-staging/ cannot read arcade-staging-other/."
  }
}

variable "database_backups" {
  description = "CloudNativePG backups to S3: the namespace and service account of the database Cluster (CloudNativePG names the account after the Cluster) and how many days backups are kept."
  type = object({
    namespace       = string
    service_account = string
    retention_days  = number
  })
}

variable "service_accounts" {
  description = "Namespace and service account of each add-on that gets an EKS Pod Identity role; they must match the Applications under deploy/argocd/apps."
  type = object({
    external_dns     = optional(object({ namespace = string, name = string }), { namespace = "external-dns", name = "external-dns" })
    cert_manager     = optional(object({ namespace = string, name = string }), { namespace = "cert-manager", name = "cert-manager" })
    external_secrets = optional(object({ namespace = string, name = string }), { namespace = "external-secrets", name = "external-secrets" })
    image_registry   = optional(object({ namespace = string, name = string }), { namespace = "kyverno", name = "kyverno-admission-controller" })
  })
  default = {}
}

variable "argocd_application_manifest" {
  description = "YAML of Argo CD's own Application (deploy/argocd/apps/argo-cd.yaml): the bootstrap installs its chart, version and values once, then Argo CD manages itself from it."
  type        = string
}

variable "gitops_root_manifest" {
  description = "YAML of the app-of-apps root Application (deploy/argocd/bootstrap/root.yaml), applied once Argo CD runs."
  type        = string
}

variable "gitops_exclude" {
  description = "Glob of files under deploy/argocd the root leaves out on this cluster: the other environment's Arcade Application."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags on every AWS resource."
  type        = map(string)
  default     = {}
}
