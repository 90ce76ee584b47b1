//! Each rep's morning digest: what rapport learned since the last one, what
//! is due, what waits for the rep, and the pipeline. `gather` reads it from
//! the store (the content is the domain's `domain::digest`); `send` mails it
//! at the rep's digest hour, once per rep and day.

mod gather;
mod send;

pub use gather::*;
pub use send::*;
