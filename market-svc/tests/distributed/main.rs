//! Distributed fitting against a real `nats-server` and real `market-svc worker` processes.
//!
//! Each test starts its own `nats-server -js` on a free loopback port with a temporary store.
//! Without `nats-server` on the machine the tests are skipped with a message — except when
//! `CI=true`, where they fail (CI installs it, see `.ci/run`). They run one at a time (the
//! kill and restart tests measure redelivery timing and must not compete for the 2 cores).

mod backtests;
mod harness;
mod jobs;
mod rest;
