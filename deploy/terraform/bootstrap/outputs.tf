output "state_bucket" {
  description = "Name of the state bucket: the `bucket` of every environment's backend \"s3\" block."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket, for the IAM policies of whoever runs the environment roots."
  value       = aws_s3_bucket.state.arn
}

output "state_kms_key_arn" {
  description = "ARN of the KMS key encrypting the state (kms:Encrypt, Decrypt and GenerateDataKey for whoever runs the environment roots)."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "The backend \"s3\" arguments the environment roots use (key differs per environment)."
  value = {
    bucket       = aws_s3_bucket.state.id
    region       = var.region
    encrypt      = true
    kms_key_id   = aws_kms_alias.state.name
    use_lockfile = true
  }
}
