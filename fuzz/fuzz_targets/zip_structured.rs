//! The whole static check of generated ZIPs: plausible entries (real
//! configs, models and weights, spliced and patched) under headers that may
//! lie, so the fuzzer spends its time past the archive layer.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    if let Ok(zip) = gasguard_fuzz::gen_zip(&mut u) {
        gasguard_fuzz::check_invariants(&zip);
    }
});
