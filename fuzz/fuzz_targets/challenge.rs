//! Fuzz target `challenge`: see `clab_keys_fuzz::challenge` for the input and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clab_keys_fuzz::challenge(data));
