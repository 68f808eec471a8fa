output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.cluster.cluster_name
}

output "kubeconfig_command" {
  description = "Command that points kubectl at the cluster."
  value       = "aws eks update-kubeconfig --region ${var.region} --name ${module.cluster.cluster_name}"
}

output "pod_identity_role_arns" {
  description = "IAM role of each add-on, by name."
  value       = module.cluster.pod_identity_role_arns
}

output "image_repository_url" {
  description = "ECR repository of the Arcade image."
  value       = module.cluster.image_repository_url
}

output "helm_values" {
  description = "Values of this cluster for the platform Applications and the Arcade chart (see the module's README)."
  value       = module.cluster.helm_values
}
