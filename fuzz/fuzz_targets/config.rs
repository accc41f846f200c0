//! model_config.yaml parsing and validation: no panic, deterministic, and
//! every finding's span lies inside the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

static POLICY: std::sync::LazyLock<gasguard::policy::Policy> = std::sync::LazyLock::new(gasguard::policy::Policy::builtin);

fuzz_target!(|data: &[u8]| {
    let policy = &*POLICY;
    let run = || gasguard::config::check("model_config.yaml", data, policy, None);
    let (_, first, _) = run();
    let (_, second, _) = run();
    let codes = |d: &[gasguard::diagnostic::Diagnostic]| d.iter().map(|d| (d.rule.code, d.span.clone())).collect::<Vec<_>>();
    assert_eq!(codes(&first), codes(&second), "nondeterministic findings");
    for d in &first {
        if let Some(span) = &d.span {
            assert!(span.start <= span.end && span.end <= data.len(), "{}: span {span:?} outside {} bytes", d.rule.code, data.len());
        }
    }
});
