variable "region" {
  description = "AWS region of the environment (the state bucket's region is fixed in versions.tf)."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zone_ids" {
  description = "The environment's three availability zones by zone ID (the defaults are eu-west-1's)."
  type        = list(string)
  default     = ["euw1-az1", "euw1-az2", "euw1-az3"]
}

variable "admin_cidrs" {
  description = "Networks allowed to reach the Kubernetes API from the internet (the operators' and CI runners' egress addresses); empty keeps it private to the VPC."
  type        = list(string)
}

variable "dns_zone_ids" {
  description = "Route 53 hosted zones of the environment's host names (external-dns records, cert-manager DNS-01)."
  type        = list(string)
}
