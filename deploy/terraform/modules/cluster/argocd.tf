# Argo CD, installed once and then managed by itself: the chart, version and values come from
# its own Application (deploy/argocd/apps/argo-cd.yaml, passed in by the environment root), so
# the install here and the Application that takes over describe the same release. After the
# first apply Terraform leaves the release alone (ignore_changes): upgrades are changes to
# that file, synced by Argo CD. The app-of-apps root is then applied once; everything else
# comes from git.

locals {
  argocd_application = yamldecode(var.argocd_application_manifest)
  argocd_source      = local.argocd_application.spec.source

  gitops_root = yamldecode(var.gitops_root_manifest)
  # The root with this cluster's exclusion: each environment's cluster runs its own Arcade.
  gitops_root_for_cluster = merge(local.gitops_root, {
    spec = merge(local.gitops_root.spec, {
      source = merge(local.gitops_root.spec.source, {
        directory = merge(local.gitops_root.spec.source.directory, { exclude = var.gitops_exclude })
      })
    })
  })
}

resource "helm_release" "argocd" {
  name             = local.argocd_source.helm.releaseName
  namespace        = local.argocd_application.spec.destination.namespace
  create_namespace = true
  repository       = local.argocd_source.repoURL
  chart            = local.argocd_source.chart
  version          = local.argocd_source.targetRevision
  values           = [yamlencode(local.argocd_source.helm.valuesObject)]
  wait             = true
  timeout          = 900

  lifecycle {
    # Argo CD owns its install from the first sync on.
    ignore_changes = all
  }

  depends_on = [module.eks]
}

resource "kubectl_manifest" "gitops_root" {
  yaml_body = yamlencode(local.gitops_root_for_cluster)

  depends_on = [helm_release.argocd]
}
