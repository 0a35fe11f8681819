//! Plumbing shared by the API emulators.
