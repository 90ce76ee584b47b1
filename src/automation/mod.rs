//! Acting on what the pure core decides, against the store: the stage rules
//! over the event log, and enrolling prospects in sequences.

pub mod enrolment;
pub mod rules;
