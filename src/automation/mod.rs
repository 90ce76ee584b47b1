//! Acting on what the pure core decides, against the store: the stage rules
//! over the event log, enrolling prospects in sequences, and gathering digests.

pub mod digest;
pub mod enrolment;
pub mod rules;
pub mod sequence_tasks;
pub mod stops;
