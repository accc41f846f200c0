//! The policy loader on arbitrary text: an error or a policy, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match gasguard::policy::Policy::parse(text, "fuzz.yaml") {
            Ok(p) => assert!(!p.name.is_empty()),
            Err(e) => assert!(!e.problems.is_empty()),
        }
    }
});
