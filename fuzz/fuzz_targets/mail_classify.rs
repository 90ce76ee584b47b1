//! Mail anyone can send: headers read alone (as sync does first), the whole
//! message classified, and what it means for known prospects, without a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport::robustness::mail_classify(data));
