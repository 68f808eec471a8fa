terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.15, < 7.0"
    }
    # Karpenter's controller and the Argo CD bootstrap (configured by the environment root).
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0, < 4.0"
    }
    # Karpenter's NodePool and EC2NodeClass and the app-of-apps root: custom resources whose
    # CRDs do not exist before the apply (the kubernetes provider's kubernetes_manifest needs
    # them at plan time).
    kubectl = {
      source  = "alekc/kubectl"
      version = ">= 2.1, < 3.0"
    }
  }
}
