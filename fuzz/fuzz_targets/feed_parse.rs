//! Feed bytes from anyone's server: RSS, Atom, JSON Feed or garbage, with
//! any Content-Type, parsed and reduced to text without a panic, caught or not.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assert!(
    rapport::robustness::feed_parse(data),
    "the XML parser panicked (caught in rapport, but a bug to fix)"
));
