//! Mail, read as evidence. Classification tells replies, out-of-office
//! answers, bounces, delivery reports, complaints, unsubscribe requests and
//! machine mail apart, and extracts what the tracker needs from each (ids to
//! match prospects, failed recipients, return dates, fresh text); `meaning`
//! turns a classified message into events for a rep's prospects. Pure code
//! over bytes; IMAP lives in `sources::mail`.

mod auto_reply;
mod bounce;
mod classify;
mod command;
mod content;
mod delay;
pub mod envelope;
mod feedback;
mod headers;
mod json_notice;
pub mod lang;
mod meaning;
mod notice;
mod reason_words;
mod reasons;
mod reply_text;
mod unsubscribe;
pub mod verify;

pub use bounce::{read_refusal, BounceReason, FailedRecipient, Refusal};
pub use classify::{classify, classify_in_zone, Classification, ClassifyError, MailClass};
pub use meaning::*;
