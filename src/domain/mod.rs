//! The pure core: no IO, no system clock. Everything here is plain data and
//! functions over it, unit-tested with simulated time.

pub mod account;
pub mod calendar;
pub mod clock;
pub mod digest;
pub mod event;
pub mod export;
pub mod feed_plan;
pub mod flow;
pub mod forecast;
pub mod hooks;
pub mod host_lanes;
pub mod host_load;
pub mod import;
pub mod intent;
pub mod learned;
pub mod lockout;
pub mod mail;
pub mod money;
pub mod pipeline;
pub mod polling;
pub mod profile;
pub mod prospect;
pub mod records;
pub mod reminder;
pub mod rules;
pub mod schedule;
pub mod score;
pub mod sequence;
pub mod spreadsheet;
pub mod text;
