//! signals-svc over real HTTP: every endpoint and error, SSE after an append.

mod helpers;

mod bars;
mod compute;
mod durability;
mod signals;
