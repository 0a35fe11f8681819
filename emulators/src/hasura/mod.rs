//! Hasura metadata/schema/Cloud API emulator.
