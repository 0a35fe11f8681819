//! Hasura API emulator.
