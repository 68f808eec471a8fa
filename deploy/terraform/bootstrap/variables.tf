variable "region" {
  description = "AWS region of the state bucket (the environments' backend blocks name the same region)."
  type        = string
  default     = "eu-west-1"
}

variable "state_bucket_name" {
  description = "Name of the S3 bucket holding every environment's Terraform state; globally unique."
  type        = string
  default     = "arcade-terraform-state"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,48}[a-z0-9]$", var.state_bucket_name))
    error_message = "An S3 bucket name: lower case letters, digits, dots and dashes, 3 to 50 characters (the access-log bucket adds a suffix)."
  }
}

variable "noncurrent_version_days" {
  description = "Days a superseded state version is kept before it expires (the undo window of a bad apply)."
  type        = number
  default     = 90
}

variable "access_log_days" {
  description = "Days the state bucket's access logs are kept."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default = {
    project    = "arcade"
    managed-by = "terraform"
  }
}
