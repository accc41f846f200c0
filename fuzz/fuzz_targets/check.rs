//! The whole static check of arbitrary bytes as a ZIP; the invariants are
//! in `gasguard_fuzz::check_invariants`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gasguard_fuzz::check_invariants(data));
