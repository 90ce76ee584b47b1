//! Outbound HTTP: one client factory for every request rapport makes, with
//! the SSRF guard, timeouts, size limits and politeness built in.

pub mod budget;
pub mod client;
pub mod guard;
mod pacing;
pub mod shared;
