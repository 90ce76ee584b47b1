//! A config file as an operator (or a bad merge) leaves it: loaded and
//! validated into settings or an error naming the key, no panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rapport::robustness::config_loader(data));
