//! Feed bytes from anyone's server: RSS, Atom, JSON Feed or garbage, with
//! any Content-Type, parsed and reduced to text without a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport::robustness::feed_parse(data));
