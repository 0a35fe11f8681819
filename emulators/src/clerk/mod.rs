//! Clerk Backend API emulator.
