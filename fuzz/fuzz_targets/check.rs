//! The whole static check of arbitrary bytes as a ZIP: a report (never a
//! panic), deterministic, whose JSON rendering is valid and carries the
//! documented fields.
#![no_main]
use libfuzzer_sys::fuzz_target;

static POLICY: std::sync::LazyLock<gasguard::policy::Policy> = std::sync::LazyLock::new(gasguard::policy::Policy::builtin);

fuzz_target!(|data: &[u8]| {
    let policy = &*POLICY;
    let options = gasguard::check::CheckOptions {
        modality: None,
        strict: false,
        sandbox: gasguard::check::SandboxMode::Off,
        interpreter: None,
        runtime: gasguard::runtime::RuntimeOptions::default(),
        static_checks: true,
    };
    let path = std::env::temp_dir().join(format!("gasguard-fuzz-check-{}.zip", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(first) = gasguard::check::check_path(&path, policy, &options) else { return };
    let Ok(second) = gasguard::check::check_path(&path, policy, &options) else { panic!("second run failed") };
    assert_eq!(first.verdict(), second.verdict());
    let json = gasguard::report::json::render(&[first]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(doc["schema_version"], 1);
    for key in ["path", "verdict", "diagnostics", "summary", "entries"] {
        assert!(doc["submissions"][0].get(key).is_some(), "missing {key}");
    }
});
