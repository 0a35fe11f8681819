//! Plumbing shared by the API emulators: binding a router to loopback, and a
//! runtime-adjustable [`Control`] that counts requests, rate limits them and
//! injects faults so provider retry logic can be tested against flaky servers.

mod control;
mod middleware;
mod serve;

pub use control::{Control, FaultConfig, FaultKind, RateLimit};
pub use middleware::layer;
pub use serve::{serve, Served};
