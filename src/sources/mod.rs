//! Where engagement comes from: prospects' public feeds and the reps'
//! mailboxes. Parsing and classifying are pure (in `domain`); fetching,
//! polling and IMAP sync live here.

pub mod discovery;
pub mod feed;
mod lanes;
pub mod mail;
pub mod poll;
mod prepare;
pub mod robots;
pub mod shared_hosts;
