//! Config rules (C001-C019): every file in fixtures/config/{bad,warn,good}
//! is checked inside an otherwise valid submission. A fixture's name starts
//! with the code it must produce.

mod common;
use common::*;

fn fixtures(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("fixtures/config").join(kind);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| {
            let path = e.expect("entry").path();
            (
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(&path).expect("read"),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

/// model.py that accepts any config keyword, so only the config is judged.
const ANY_KWARGS: &[u8] = b"import torch.nn as nn\n\ndef load_model(weights_path, num_classes=2, **kwargs):\n    return nn.Linear(1, num_classes)\n";

#[test]
fn every_bad_config_is_rejected_with_its_code() {
    for (name, body) in fixtures("bad") {
        let code = &name[..4];
        let dir = example_dir(&[
            ("model_config.yaml", Some(&body)),
            ("model.py", Some(ANY_KWARGS)),
        ]);
        let report = assert_rejected_with(dir.path(), code);
        // The finding points into the config, at a line.
        let diags = report["submissions"][0]["diagnostics"]
            .as_array()
            .expect("diagnostics");
        let d = diags
            .iter()
            .find(|d| d["code"] == code)
            .expect("diagnostic");
        assert_eq!(d["path"], "model_config.yaml", "{name}");
        assert!(
            d["line"].as_u64().is_some_and(|l| l >= 1),
            "{name}: no line in {d}"
        );
    }
}

#[test]
fn every_warning_config_is_accepted_with_its_code() {
    for (name, body) in fixtures("warn") {
        let dir = example_dir(&[
            ("model_config.yaml", Some(&body)),
            ("model.py", Some(ANY_KWARGS)),
        ]);
        assert_warned_with(dir.path(), &name[..4]);
    }
}

#[test]
fn realistic_configs_produce_no_config_finding() {
    for (name, body) in fixtures("good") {
        let dir = example_dir(&[
            ("model_config.yaml", Some(&body)),
            ("model.py", Some(ANY_KWARGS)),
        ]);
        let (exit, report) = check_json(dir.path(), &[]);
        let found: Vec<_> = codes(&report)
            .into_iter()
            .filter(|c| c.starts_with('C'))
            .collect();
        assert!(found.is_empty(), "{name}: {found:?}");
        assert_eq!(exit, 0, "{name}");
    }
}

#[test]
fn c009_modality_must_match_the_intended_slot() {
    let dir = example_dir(&[]);
    let (exit, report) = check_json(dir.path(), &["--modality", "video"]);
    assert!(codes(&report).contains(&"C009".to_string()));
    assert_eq!(exit, 1);
    let (exit, _) = check_json(dir.path(), &["--modality", "image"]);
    assert_eq!(exit, 0);
}

#[test]
fn strict_turns_warnings_into_rejections() {
    let body = std::fs::read(repo().join("fixtures/config/warn/C011-three-classes.yaml"))
        .expect("fixture");
    let dir = example_dir(&[("model_config.yaml", Some(&body))]);
    let (exit, _) = check_json(dir.path(), &[]);
    assert_eq!(exit, 0);
    let (exit, report) = check_json(dir.path(), &["--strict"]);
    assert_eq!(exit, 1);
    assert_eq!(
        report["submissions"][0]["diagnostics"][0]["severity"],
        "error"
    );
}

#[test]
fn the_evaluators_reading_is_what_gets_judged() {
    // YAML 1.2 tools show 16000.0; PyYAML reads the string "16e3".
    let body = std::fs::read(repo().join("fixtures/config/bad/C007-yaml11-exponent.yaml"))
        .expect("fixture");
    let dir = example_dir(&[("model_config.yaml", Some(&body))]);
    let (_, report) = check_json(dir.path(), &[]);
    let text = report.to_string();
    assert!(
        text.contains("PyYAML reads the string \\\"16e3\\\""),
        "{text}"
    );
}
