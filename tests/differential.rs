//! Differential tests: gasguard must see a submission as the evaluator's own
//! parsers do (Python's zipfile, PyYAML, CPython's ast, the safetensors
//! library, from the test venv). Where they disagree, gasguard must reject.
//!
//! Intended differences (gasguard stricter, documented in docs/differential.md):
//! CPython accepts some files gasguard refuses (non-UTF-8 coding cookies,
//! bidi characters, lone CRs, over-limit sizes); safetensors accepts headers
//! up to 100 MB where gasguard stops at 8 MiB.

mod common;
use common::*;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The reference readings of every (kind, path), in one Python process.
fn reference(cases: &[(&str, PathBuf)]) -> Vec<serde_json::Value> {
    let input = serde_json::to_vec(
        &cases
            .iter()
            .map(|(k, p)| serde_json::json!({"kind": k, "path": p}))
            .collect::<Vec<_>>(),
    )
    .expect("json");
    let mut child = Command::new(test_python())
        .args([
            "-I",
            "-B",
            repo().join("tests/differential.py").to_str().expect("utf8"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("line"))
        .collect();
    assert_eq!(lines.len(), cases.len());
    lines
}

fn errors(report: &serde_json::Value, prefix: char) -> Vec<String> {
    report["submissions"][0]["diagnostics"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| {
                    d["severity"] == "error"
                        && d["code"].as_str().is_some_and(|c| c.starts_with(prefix))
                })
                .map(|d| format!("{} {}", d["code"], d["message"]))
                .collect()
        })
        .unwrap_or_default()
}

/// Where the reference (`reference`, its reading `py`) fails, gasguard must
/// report an error of `stage` ('C', 'W'...). Returns whether both accepted,
/// so that what they read can be compared; gasguard alone rejecting is the
/// stricter direction, allowed (see the module docs).
fn both_accept(
    path: &Path,
    py: &serde_json::Value,
    report: &serde_json::Value,
    stage: char,
    reference: &str,
) -> bool {
    let found = errors(report, stage);
    if py["ok"] != true {
        assert!(
            !found.is_empty(),
            "{}: {reference} refuses it ({}) but gasguard found no {stage} error",
            path.display(),
            py["error"]
        );
        return false;
    }
    found.is_empty()
}

/// The inputs fuzzers found for `targets` (fuzz/regressions, in CI) and,
/// with GASGUARD_DIFF_CORPUS=1, every input of their local corpora too
/// (fuzz/corpus, not in git: thousands of files, minutes; for long runs).
fn fuzzer_inputs(targets: &[&str]) -> Vec<PathBuf> {
    let mut dirs = vec!["fuzz/regressions"];
    if std::env::var_os("GASGUARD_DIFF_CORPUS").is_some_and(|v| v == "1") {
        dirs.push("fuzz/corpus");
    }
    let mut files = Vec::new();
    for dir in dirs {
        for target in targets {
            let Ok(entries) = std::fs::read_dir(repo().join(dir).join(target)) else {
                continue;
            };
            for e in entries {
                let p = e.expect("entry").path();
                if p.is_file() && p.file_name().is_some_and(|n| n != "README") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    files
}

/// Every archive the archive tests build, and some more.
fn zip_corpus(dir: &Path) -> Vec<PathBuf> {
    let files = example_files("image");
    let plain: Vec<ZipEntrySpec> = files.iter().map(|(n, b)| ZipEntrySpec::new(n, b)).collect();
    let deflated: Vec<ZipEntrySpec> = files
        .iter()
        .map(|(n, b)| ZipEntrySpec::new(n, b).deflated())
        .collect();
    let mut cases: Vec<Vec<u8>> = vec![build_zip(&plain, &[], &[]), build_zip(&deflated, &[], &[])];
    let with = |extra: ZipEntrySpec| {
        let mut e = deflated.clone();
        e.push(extra);
        build_zip(&e, &[], &[])
    };
    cases.push(with(ZipEntrySpec::new("model.py", b"import os\n")));
    let mut local = ZipEntrySpec::new("config.json", b"{}");
    local.local_name = Some("evil.py".into());
    cases.push(with(local));
    let mut alias = ZipEntrySpec::new("config.json", b"{}");
    alias.alias_of = Some(0);
    cases.push(with(alias));
    let mut crc = plain.clone();
    crc[1].crc = Some(1);
    cases.push(build_zip(&crc, &[], &[]));
    let mut size = deflated.clone();
    size[0].declared_size = Some(3);
    cases.push(build_zip(&size, &[], &[]));
    cases.push(build_zip(&plain, b"#!/bin/sh\nexit\n", &[]));
    cases.push(build_zip(&plain, &[], b"trailing"));
    let mut enc = ZipEntrySpec::new("x.json", b"{}");
    enc.flags = 1;
    cases.push(with(enc));
    let mut utf8 = ZipEntrySpec::new("naïve.json", b"{}");
    utf8.flags = 0x0800;
    cases.push(with(utf8));
    cases.push(with(ZipEntrySpec::new("caf\u{e9}.json", b"{}"))); // no UTF-8 flag: CP437
    cases.push(with(ZipEntrySpec::new("../evil.json", b"{}")));
    let whole = build_zip(&plain, &[], &[]);
    cases.push(whole[..whole.len() - 7].to_vec());
    let mut paths: Vec<PathBuf> = cases
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| {
            let p = dir.join(format!("case{i}.zip"));
            std::fs::write(&p, bytes).expect("write");
            p
        })
        .collect();
    // Saved inputs are checked as a .zip path, as the fuzz targets read them.
    for (i, input) in fuzzer_inputs(&["zip_intake", "check"]).iter().enumerate() {
        let p = dir.join(format!("fuzz{i}.zip"));
        std::fs::copy(input, &p).expect("copy");
        paths.push(p);
    }
    paths
}

#[test]
fn zip_entries_agree_with_pythons_zipfile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = zip_corpus(dir.path());
    let cases: Vec<(&str, PathBuf)> = corpus.iter().map(|p| ("zip", p.clone())).collect();
    let refs = reference(&cases);
    for (path, py) in corpus.iter().zip(refs) {
        let (exit, report) = check_json(path, &[]);
        if exit != 0 {
            continue; // rejected: nothing to agree about
        }
        assert_eq!(
            py["ok"],
            true,
            "{}: gasguard accepted what zipfile cannot read: {}",
            path.display(),
            py["error"]
        );
        let ours: Vec<(String, u64)> = report["submissions"][0]["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().expect("name").to_string(),
                    e["size"].as_u64().expect("size"),
                )
            })
            .collect();
        let theirs: Vec<(String, u64)> = py["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().expect("name").to_string(),
                    e["size"].as_u64().expect("size"),
                )
            })
            .collect();
        assert_eq!(ours, theirs, "{}: entry lists differ", path.display());
    }
}

fn config_fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for kind in ["good", "warn", "bad"] {
        for e in std::fs::read_dir(repo().join("fixtures/config").join(kind)).expect("dir") {
            let path = e.expect("entry").path();
            // PyYAML really expands the billion laughs (gasguard refuses it
            // at its node budget): the reference reading would never end.
            if !path.to_string_lossy().contains("billion-laughs") {
                out.push(path);
            }
        }
    }
    out.extend(
        ["image", "video", "audio"]
            .map(|m| repo().join("examples").join(m).join("model_config.yaml")),
    );
    out.sort();
    out.extend(fuzzer_inputs(&["config"]));
    out
}

#[test]
fn accepted_configs_read_the_same_under_pyyaml() {
    let fixtures = config_fixtures();
    let cases: Vec<(&str, PathBuf)> = fixtures.iter().map(|p| ("yaml", p.clone())).collect();
    let refs = reference(&cases);
    const ANY_KWARGS: &[u8] = b"import torch\n\ndef load_model(weights_path, num_classes=2, **kwargs):\n    return None\n";
    for (path, py) in fixtures.iter().zip(refs) {
        let body = std::fs::read(path).expect("read");
        let dir = example_dir(&[
            ("model_config.yaml", Some(&body)),
            ("model.py", Some(ANY_KWARGS)),
        ]);
        let (_, report) = check_json(dir.path(), &[]);
        if !both_accept(path, &py, &report, 'C', "PyYAML") {
            continue;
        }
        let facts = &report["submissions"][0]["config"];
        let value = &py["value"];
        let model = &value["model"];
        assert_eq!(facts["modality"], value["modality"], "{}", path.display());
        assert_eq!(
            facts["num_classes"],
            model["num_classes"],
            "{}",
            path.display()
        );
        let weights = model
            .get("weights_file")
            .cloned()
            .unwrap_or(serde_json::json!("model.safetensors"));
        assert_eq!(facts["weights_file"], weights, "{}", path.display());
        if let Some(resize) = value["preprocessing"].get("resize") {
            let shape = facts["input_shape"].as_array().expect("shape");
            assert_eq!(
                &shape[shape.len() - 2..],
                resize.as_array().expect("resize").as_slice(),
                "{}",
                path.display()
            );
        }
        let kwargs: Vec<String> = model
            .as_object()
            .expect("model map")
            .keys()
            .filter(|k| *k != "weights_file")
            .cloned()
            .collect();
        let mut ours: Vec<String> = facts["load_model_kwargs"]
            .as_array()
            .expect("kwargs")
            .iter()
            .map(|k| k.as_str().expect("str").to_string())
            .collect();
        let mut theirs = kwargs;
        ours.sort();
        theirs.sort();
        assert_eq!(
            ours,
            theirs,
            "{}: load_model keywords differ",
            path.display()
        );
    }
}

/// Every model.py the tests know: fixtures, examples and the fuzzers'
/// saved regressions.
fn python_corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for kind in ["good", "warn", "bad"] {
        for e in std::fs::read_dir(repo().join("fixtures/python").join(kind)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "py") {
                files.push(p);
            }
        }
    }
    for m in ["image", "video", "audio"] {
        files.push(repo().join("examples").join(m).join("model.py"));
    }
    files.sort();
    files.extend(fuzzer_inputs(&["python"]));
    files
}

#[test]
fn python_files_gasguard_parses_are_the_ones_cpython_parses() {
    let files = python_corpus();
    let cases: Vec<(&str, PathBuf)> = files.iter().map(|p| ("python", p.clone())).collect();
    let refs = reference(&cases);
    let mut compared = 0;
    for (path, py) in files.iter().zip(refs) {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let body = std::fs::read(path).expect("read");
        let dir = example_dir(&[("model.py", Some(&body))]);
        // --strict: P006 (newer syntax) is a warning, and counts here.
        let (_, report) = check_json(dir.path(), &["--strict"]);
        let refused: Vec<String> = errors(&report, 'P')
            .into_iter()
            .filter(|e| {
                // P006: newer syntax, which gasguard parses but flags.
                ["\"P001\"", "\"P002\"", "\"P003\"", "\"P005\"", "\"P006\""]
                    .iter()
                    .any(|c| e.starts_with(c))
            })
            .collect();
        if py["ok"] != true {
            assert!(
                !refused.is_empty(),
                "{name}: CPython refuses it ({}) but gasguard parsed it",
                py["error"]
            );
        }
        if py["ok"] == true && refused.iter().any(|e| e.starts_with("\"P001\"")) {
            panic!("{name}: CPython parses it but gasguard reports a syntax error: {refused:?}");
        }
        // Where both parsed: gasguard saw every import and every call a walk
        // of CPython's AST finds, no more and no fewer.
        let code = &report["submissions"][0]["code"];
        if py["ok"] == true && !code.is_null() {
            for key in ["imports", "calls"] {
                assert_eq!(
                    code[key], py[key],
                    "{name}: {key} differ from CPython's AST"
                );
            }
            compared += 1;
        }
    }
    assert!(compared >= 60, "only {compared} files were compared");
}

#[test]
fn safetensors_files_agree_with_the_safetensors_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let headers: Vec<(&str, Vec<u8>)> = vec![
        (
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"__metadata__":{"a":"b"},"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            vec![0; 12],
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"w":{"dtype":"F128","shape":[2],"data_offsets":[0,32]}}"#,
            vec![0; 32],
        ),
        (r#"{"__metadata__":{"epoch":3}}"#, vec![]),
        (r#"{}"#, vec![]),
        (
            r#"{"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#,
            vec![],
        ),
        (
            r#"{"w":{"dtype":"I64","shape":[],"data_offsets":[0,8]}}"#,
            vec![0; 8],
        ),
        (
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#,
            vec![0; 8],
        ),
    ];
    let mut files = Vec::new();
    for (i, (h, data)) in headers.iter().enumerate() {
        let p = dir.path().join(format!("w{i}.safetensors"));
        std::fs::write(&p, safetensors(h, data)).expect("write");
        files.push(p);
    }
    for m in ["image", "video", "audio"] {
        files.push(repo().join("examples").join(m).join("model.safetensors"));
    }
    files.extend(fuzzer_inputs(&["safetensors"]));
    let cases: Vec<(&str, PathBuf)> = files.iter().map(|p| ("safetensors", p.clone())).collect();
    let refs = reference(&cases);
    for (path, py) in files.iter().zip(refs) {
        let bytes = std::fs::read(path).expect("read");
        let sub = example_dir(&[("model.safetensors", Some(&bytes))]);
        let (_, report) = check_json(sub.path(), &[]);
        if !both_accept(path, &py, &report, 'W', "safetensors") {
            continue;
        }
        let summary = &report["submissions"][0]["weights"][0];
        let tensors = py["tensors"].as_object().expect("tensors");
        assert_eq!(
            summary["tensors"].as_u64(),
            Some(tensors.len() as u64),
            "{}",
            path.display()
        );
        let params: u64 = tensors
            .values()
            .map(|t| {
                t["shape"]
                    .as_array()
                    .expect("shape")
                    .iter()
                    .map(|d| d.as_u64().expect("dim"))
                    .product::<u64>()
            })
            .sum();
        assert_eq!(
            summary["parameters"].as_u64(),
            Some(params),
            "{}",
            path.display()
        );
    }
}
