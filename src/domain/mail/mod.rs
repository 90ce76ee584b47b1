//! Mail, read as evidence: what a message is (classification) and what it
//! means for a rep's prospects. Pure code over bytes; IMAP lives in `sources`.

mod bounce;
mod classify;
pub mod envelope;
mod meaning;

pub use bounce::{BounceReason, FailedRecipient};
pub use classify::{classify, Classification, ClassifyError, MailClass};
pub use meaning::*;
