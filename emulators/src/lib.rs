//! Emulators of exactly the Clerk and Hasura API surface the providers use.
//! Test and demo infrastructure only: no provider binary links this crate.
pub mod clerk;
pub mod common;
pub mod hasura;
