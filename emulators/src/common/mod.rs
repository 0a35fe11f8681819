//! Shared emulator plumbing: fault injection, request counters, rate limits, binding.
