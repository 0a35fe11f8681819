//! Null is not a value. `x = null`, an unset variable with `default = null`,
//! or what `terraform plan -generate-config-out` writes for a sensitive
//! attribute it cannot read all reach a provider as a null: for a required
//! attribute that must be refused at validate, naming the attribute, before
//! anything is sent (a null sent as `""` wipes a secret); for an optional one
//! it must never be sent as an empty value. Real Terraform, every core in
//! TERRAFORM_BINARIES.
mod support;

#[path = "null_values/common.rs"]
mod common;
#[path = "null_values/elements.rs"]
mod elements;
#[path = "null_values/optional.rs"]
mod optional;
#[path = "null_values/required.rs"]
mod required;
#[path = "null_values/schema_walk.rs"]
mod schema_walk;
