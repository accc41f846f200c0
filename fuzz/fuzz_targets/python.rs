//! model.py decoding, parsing and analysis: no panic, no stack overflow,
//! deterministic, spans inside the source.
#![no_main]
use libfuzzer_sys::fuzz_target;

static POLICY: std::sync::LazyLock<gasguard::policy::Policy> = std::sync::LazyLock::new(gasguard::policy::Policy::builtin);

fuzz_target!(|data: &[u8]| {
    let policy = &*POLICY;
    let facts = gasguard::config::ConfigFacts::default();
    let first = gasguard::python::check("model.py", data, policy, &facts);
    let second = gasguard::python::check("model.py", data, policy, &facts);
    assert_eq!(first.inventory, second.inventory, "nondeterministic inventory");
    let (first, source) = (first.diagnostics, first.source);
    let second = second.diagnostics;
    let codes = |d: &[gasguard::diagnostic::Diagnostic]| d.iter().map(|d| (d.rule.code, d.span.clone())).collect::<Vec<_>>();
    assert_eq!(codes(&first), codes(&second), "nondeterministic findings");
    if let Some(source) = source {
        for d in &first {
            if let Some(span) = &d.span {
                assert!(span.end <= source.len() + 3, "{}: span {span:?} outside the source", d.rule.code);
            }
        }
    }
});
