//! A sequence file as a rep might write it, templates included: checked,
//! then every step rendered for a prospect whose fields are also fuzzed.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport::robustness::sequence_template(data));
