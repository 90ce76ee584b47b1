//! Cold email sequences: their definition, templates and timing. Pure.

pub mod definition;
pub mod enrolment;
pub mod pacing;
pub mod plan;
pub mod stats;
pub mod stop;
pub mod template;
pub mod timing;
pub mod unsubscribe;

pub use definition::{EmailTemplate, Sequence, Step, StepAction, TaskTemplate};
