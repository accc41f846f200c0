//! Test helpers: run the built binary, and build ZIPs and safetensors files
//! byte by byte so that malformed inputs are readable in the test itself.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// Shared with the structure-aware fuzz target (fuzz/fuzz_targets/zip_structured.rs).
mod zipbuild;
pub use zipbuild::*;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The test venv's interpreter (scripts/test.sh creates it and exports
/// GASGUARD_TEST_PYTHON); a test that needs it fails, never skips, without it.
pub fn test_python() -> String {
    let p = std::env::var("GASGUARD_TEST_PYTHON").unwrap_or_else(|_| {
        repo()
            .join(".venv/bin/python")
            .to_string_lossy()
            .into_owned()
    });
    assert!(
        Path::new(&p).exists(),
        "no test interpreter at {p}: run scripts/test.sh (it creates .venv)"
    );
    p
}

pub fn gasguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gasguard")
}

/// Runs `check --format json --sandbox off` on one path and returns (exit code, report).
pub fn check_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let p = path.to_str().expect("utf-8 path");
    let mut args = vec!["check", "--format", "json", "--sandbox", "off", p];
    args.extend_from_slice(extra);
    let out = gasguard(&args);
    let code = out.status.code().expect("gasguard exited by signal");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "bad JSON ({e}) exit {code}: {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, json)
}

/// The codes of every diagnostic in a one-submission JSON report.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["submissions"][0]["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["code"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the exit code and that `code` is among the findings.
fn assert_exit_with(path: &Path, code: &str, expected_exit: i32) -> serde_json::Value {
    let (exit, report) = check_json(path, &[]);
    let found = codes(&report);
    assert!(
        found.iter().any(|c| c == code),
        "{}: expected {code}, found {found:?}",
        path.display()
    );
    assert_eq!(
        exit,
        expected_exit,
        "{}: expected exit {expected_exit}, found {exit}; {found:?}",
        path.display()
    );
    report
}

/// Asserts the submission is rejected (exit 1) with `code` among its findings.
pub fn assert_rejected_with(path: &Path, code: &str) -> serde_json::Value {
    assert_exit_with(path, code, 1)
}

/// Asserts the submission is accepted (exit 0) and that `code` is among its findings.
pub fn assert_warned_with(path: &Path, code: &str) -> serde_json::Value {
    assert_exit_with(path, code, 0)
}

pub fn assert_accepted(path: &Path) -> serde_json::Value {
    let (exit, report) = check_json(path, &[]);
    assert_eq!(
        exit,
        0,
        "{}: expected exit 0; {:?}",
        path.display(),
        report["submissions"][0]["diagnostics"]
    );
    report
}

/// The three files of the image example, as (name, bytes).
pub fn example_files(modality: &str) -> Vec<(String, Vec<u8>)> {
    let dir = repo().join("examples").join(modality);
    ["model_config.yaml", "model.py", "model.safetensors"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                std::fs::read(dir.join(n)).expect("example file"),
            )
        })
        .collect()
}

/// A temp directory holding the image example, with `replace` applied
/// (a `None` body removes the file).
pub fn example_dir(replace: &[(&str, Option<&[u8]>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = example_files("image");
    for (name, body) in replace {
        files.retain(|(n, _)| n != name);
        if let Some(b) = body {
            files.push((name.to_string(), b.to_vec()));
        }
    }
    for (name, body) in files {
        let path = dir.path().join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, body).expect("write");
    }
    dir
}

pub fn write_temp(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    (dir, path)
}

/// The image example as ZIP entries, plus `extra`.
pub fn example_zip(extra: Vec<ZipEntrySpec>) -> Vec<u8> {
    let mut entries: Vec<ZipEntrySpec> = example_files("image")
        .iter()
        .map(|(n, b)| ZipEntrySpec::new(n, b).deflated())
        .collect();
    entries.extend(extra);
    build_zip(&entries, &[], &[])
}

/// A safetensors file from a header JSON and a data buffer.
pub fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Problems the official SARIF 2.1.0 schema finds in `sarif` (empty: valid).
pub fn sarif_schema_errors(sarif: &serde_json::Value) -> Vec<String> {
    // The official schema's `run.language` pattern ends in a bare `]`, valid
    // in ECMA-262 regexes but refused by the Rust validator's regex engine;
    // escaping it matches the same strings.
    let text = std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json"))
        .expect("schema")
        .replace(r#"[a-zA-Z]{2}]?$"#, r#"[a-zA-Z]{2}\\]?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    validator
        .iter_errors(sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}
