//! model_config.yaml validation on generated YAML trees: known keys with
//! YAML 1.1 booleans, numbers, tags, aliases and shapes right and wrong.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(yaml) = gasguard_fuzz::gen_yaml(&mut u) {
        gasguard_fuzz::config_invariants(&yaml);
    }
});
