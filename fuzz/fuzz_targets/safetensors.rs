//! safetensors header validation on arbitrary bytes: no panic, deterministic,
//! and an accepted file's summary is consistent with its size.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let run = || {
        let mut diags = Vec::new();
        let mut reader = std::io::Cursor::new(data);
        let summary = gasguard::weights::check("model.safetensors", &mut reader, data.len() as u64, 8 << 20, "float32", &mut diags);
        (summary.map(|s| (s.tensors, s.parameters, s.total_bytes)), diags.iter().map(|d| d.rule.code).collect::<Vec<_>>())
    };
    let first = run();
    assert_eq!(first, run(), "nondeterministic");
    if let (Some((_, _, total)), codes) = &first
        && codes.iter().all(|c| !c.starts_with('W') || *c == "W010" || *c == "W011")
    {
        assert!(*total <= data.len() as u64, "accepted buffer larger than the file");
    }
});
