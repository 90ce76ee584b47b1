//! The token at the end of every unsubscribe link, as anyone may send it:
//! verified without a panic, and only a token the key signed verifies.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| assert!(
    rapport::robustness::unsubscribe_token(data),
    "a token verified that the key did not sign"
));
