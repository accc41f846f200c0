//! ZIP intake and archive checks on arbitrary bytes: no panic, and the same
//! bytes always give the same findings.
#![no_main]
use libfuzzer_sys::fuzz_target;

static POLICY: std::sync::LazyLock<gasguard::policy::Policy> = std::sync::LazyLock::new(gasguard::policy::Policy::builtin);

fuzz_target!(|data: &[u8]| {
    let policy = &*POLICY;
    let path = std::env::temp_dir().join(format!("gasguard-fuzz-zip-{}.zip", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let codes = |p: &std::path::Path| {
        let mut diags = Vec::new();
        let opened = gasguard::submission::Submission::open(p, policy, &mut diags);
        if let Ok(Some(sub)) = &opened {
            gasguard::submission::names::check(&sub.entries, policy, &mut diags);
            let _ = gasguard::submission::layout::check(sub, policy, &mut diags);
            for e in &sub.entries {
                let _ = sub.read_all(e, 1 << 20);
            }
        }
        diags.iter().map(|d| d.rule.code).collect::<Vec<_>>()
    };
    assert_eq!(codes(&path), codes(&path), "nondeterministic findings");
});
