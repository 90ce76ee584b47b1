//! Stage rules: triggers (event kinds, stage, platform, a count within a
//! window, idle time) and actions (advance, suggest, remind, tag, enroll,
//! stop), evaluated purely over a prospect's events. Nothing here stores
//! anything; the caller records what fired, keyed so it happens once.

pub mod definition;
pub mod evaluate;

pub use definition::{parse_span, Reset, Rule, RuleAction, RuleSet, Trigger};
pub use evaluate::{on_event, on_idle, replay, Fired, Outcome};
