variable "clerk_api_url" {
  description = "Clerk Backend API base URL. Default: the local Clerk emulator."
  type        = string
  default     = "http://127.0.0.1:4100/v1"
}

variable "hasura_endpoint" {
  description = "Hasura project base URL. Default: the local Hasura emulator."
  type        = string
  default     = "http://127.0.0.1:4200"
}

variable "hasura_cloud_api_url" {
  description = "Hasura Cloud control-plane GraphQL URL. Default: the local emulator's."
  type        = string
  default     = "http://127.0.0.1:4200/cloud/v1/graphql"
}

variable "hasura_cloud_project_id" {
  description = "Hasura Cloud project id (the provider maps it to the tenant)."
  type        = string
}

variable "protect_tables" {
  description = "Refuse to destroy tables (and their rows) unless set to false."
  type        = bool
  default     = true
}
