//! Several daemons on one PostgreSQL database, as real processes on real
//! servers (PostgreSQL, Dovecot, an SMTP sink, HTTP on loopback), under the
//! faults a team's deployment meets: SIGKILL and SIGSTOP, a database restart
//! or out of connections, a host that asks for a pause. `sending.rs` shares a
//! sequence batch, `feeds.rs` shares polling and politeness, `mail.rs` the
//! mailbox's watch, `jobs.rs` the scheduled jobs, rules and digests,
//! `whole.rs` all of it at once at a team's size;
//! `world.rs` builds the worlds they run in.

#[path = "../common/mod.rs"]
mod common;
mod feeds;
mod jobs;
mod mail;
mod sending;
mod whole;
mod world;
