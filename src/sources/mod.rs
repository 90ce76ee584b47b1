//! Where engagement comes from: prospects' public feeds (and, later, the
//! rep's mailbox). Parsing is pure; fetching and polling live beside it.

pub mod discovery;
pub mod feed;
pub mod poll;
mod prepare;
pub mod robots;
