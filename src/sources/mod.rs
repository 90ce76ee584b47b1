//! Where engagement comes from: prospects' public feeds and the reps'
//! mailboxes. Parsing and classifying are pure (in `domain`); fetching,
//! polling and IMAP sync live here.

pub mod discovery;
pub mod feed;
pub mod html_text;
mod lanes;
pub mod mail;
mod parsers;
pub mod poll;
mod prepare;
mod reading;
mod rewrite;
pub mod robots;
pub mod shared_hosts;
mod stream;
mod writer;
