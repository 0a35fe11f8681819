//! The reliability suite: faults, retry budgets, Ctrl-C, races, crashes, partial failures
//! and secrets, measured. Every scenario is `#[ignore]`d so the everyday `scripts/test.sh`
//! stays fast; `scripts/reliability.sh [--bounded]` runs them all and prints the table
//! (figures land in `target/reliability/*.json`).
mod support;

#[path = "reliability/common.rs"]
mod common;
#[path = "reliability/faults.rs"]
mod faults;
#[path = "reliability/races.rs"]
mod races;
#[path = "reliability/report.rs"]
mod report;
#[path = "reliability/secrets.rs"]
mod secrets;
