//! model_config.yaml parsing and validation on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| gasguard_fuzz::config_invariants(data));
