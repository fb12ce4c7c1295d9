//! Fuzz target `parse_token`: see `clab_keys_fuzz::parse_token` for the input and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clab_keys_fuzz::parse_token(data));
