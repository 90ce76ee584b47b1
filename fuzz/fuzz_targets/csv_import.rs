//! CSV files from other tools (Sales Navigator, HubSpot, Apollo...) or from
//! nowhere: every row either becomes a prospect or a row error, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport::robustness::csv_import(data));
