//! Fuzz target `router`: see `clab_keys_fuzz::router` for the input and the invariants.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clab_keys_fuzz::router(data));
