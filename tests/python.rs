//! Code rules (P001-P110): every file in fixtures/python/{bad,warn,good} is
//! checked as the model.py of an otherwise valid submission. A fixture's
//! name starts with the code it must produce; `NAME.yaml` beside it, when
//! present, is the submission's config.

mod common;
use common::*;

fn fixtures(kind: &str) -> Vec<(String, Vec<u8>, Option<Vec<u8>>)> {
    let dir = repo().join("fixtures/python").join(kind);
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let config = std::fs::read(p.with_extension("yaml")).ok();
            (name, std::fs::read(&p).expect("read"), config)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

fn submission(model: &[u8], config: Option<&[u8]>) -> tempfile::TempDir {
    let mut replace: Vec<(&str, Option<&[u8]>)> = vec![("model.py", Some(model))];
    if let Some(c) = config {
        replace.push(("model_config.yaml", Some(c)));
    }
    example_dir(&replace)
}

#[test]
fn every_bad_model_is_rejected_with_its_code_and_a_location() {
    let mut failures = Vec::new();
    for (name, body, config) in fixtures("bad") {
        let code = &name[..4];
        let dir = submission(&body, config.as_deref());
        let (exit, report) = check_json(dir.path(), &[]);
        let found = codes(&report);
        if exit != 1 || !found.iter().any(|c| c == code) {
            failures.push(format!("{name}: exit {exit}, found {found:?}"));
            continue;
        }
        let d = report["submissions"][0]["diagnostics"]
            .as_array()
            .and_then(|a| a.iter().find(|d| d["code"] == code).cloned())
            .expect("diagnostic");
        if d["path"] != "model.py" || d["line"].as_u64().is_none() {
            failures.push(format!("{name}: no location in {d}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_warning_model_is_accepted_with_its_code() {
    for (name, body, config) in fixtures("warn") {
        assert_warned_with(submission(&body, config.as_deref()).path(), &name[..4]);
    }
}

#[test]
fn ordinary_miner_code_is_clean() {
    let good = fixtures("good");
    assert!(
        good.len() >= 15,
        "keep at least 15 realistic models, found {}",
        good.len()
    );
    let mut failures = Vec::new();
    for (name, body, config) in good {
        let dir = submission(&body, config.as_deref());
        let (exit, report) = check_json(dir.path(), &[]);
        // Notes (P116: a finding in code that never runs) are not findings.
        let found: Vec<String> = report["submissions"][0]["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["severity"] != "info")
            .map(|d| d["code"].as_str().unwrap_or("").to_string())
            .collect();
        if exit != 0 || !found.is_empty() {
            failures.push(format!("{name}: exit {exit}, found {found:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn p002_bytes_cpython_would_read_differently() {
    for body in [
        &b"import torch\nx = '\xff\xfe'\n"[..], // not UTF-8
        b"import torch\nx = 1\x00\n",           // NUL
        b"import torch\rimport os\n",           // lone CR
        b"#!/usr/bin/env python\n# vim: set fileencoding=rot13 :\nimport torch\n",
    ] {
        assert_rejected_with(submission(body, None).path(), "P002");
    }
    // A UTF-8 BOM and an explicit UTF-8 cookie are what CPython reads too.
    let fine = b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nimport torch\n\ndef load_model(weights_path, num_classes=2):\n    return torch.nn.Linear(1, 2)\n";
    assert_accepted(submission(fine, None).path());
}

#[test]
fn p005_pathological_input_is_rejected_not_crashed() {
    let deep = format!(
        "import torch\nx = {}1{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert_rejected_with(submission(deep.as_bytes(), None).path(), "P005");
    let long = format!("import torch\nx = {}1\n", "1 + ".repeat(200_000));
    assert_rejected_with(submission(long.as_bytes(), None).path(), "P005");
    let blocks: String = (0..120)
        .map(|i| format!("{}if x:\n", "    ".repeat(i)))
        .collect();
    let nested = format!("import torch\nx = 1\n{blocks}{}pass\n", "    ".repeat(120));
    assert_rejected_with(submission(nested.as_bytes(), None).path(), "P005");
    let chain = format!("import torch\nx = torch{}\n", ".a".repeat(4_000));
    let (exit, _) = check_json(submission(chain.as_bytes(), None).path(), &[]);
    assert!(exit == 0 || exit == 1, "exit {exit}");
}

#[test]
fn identifiers_are_compared_after_nfkc_like_cpython() {
    // Fullwidth letters in an import, a name and an attribute.
    for (src, code) in [
        ("import ｏｓ\n", "P101"),
        ("import torch\nｅｘｅｃ('1')\n", "P104"),
        ("import torch\ntorch.ｏｓ.system('id')\n", "P106"),
    ] {
        let body =
            format!("{src}\ndef load_model(weights_path, num_classes=2):\n    return None\n");
        assert_rejected_with(submission(body.as_bytes(), None).path(), code);
    }
}

#[test]
fn the_message_says_blocked_or_not_listed() {
    let (_, report) = check_json(
        submission(b"import os\nimport json\n\ndef load_model(weights_path, num_classes=2):\n    return None\n", None).path(),
        &[],
    );
    let text = report.to_string();
    assert!(text.contains("`os` is blocked (system access)"), "{text}");
    assert!(text.contains("`json` is not on the allowlist"), "{text}");
}
