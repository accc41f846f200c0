//! What CI and the terminal see: `--format github` annotations, SARIF for
//! code scanning (fingerprints, helpUri, security-severity), the multi-path
//! summary table, completions, the man pages, and `gasguard init`.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Output};

fn gasguard_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gasguard")
}

/// A folder `sub` in a fresh directory: the image example with a duplicate
/// key on line 5 of model_config.yaml (C004), `prefix` lines before it.
fn bad_config_repo(prefix: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let sub = root.path().join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    for (name, body) in example_files("image") {
        std::fs::write(sub.join(name), body).expect("write");
    }
    std::fs::write(
        sub.join("model_config.yaml"),
        format!("{prefix}name: x\nversion: '1'\nmodality: image\npreprocessing: {{resize: [224, 224]}}\nmodel: {{num_classes: 2, num_classes: 2}}\n"),
    )
    .expect("write");
    root
}

#[test]
fn github_format_prints_one_annotation_per_finding() {
    let root = bad_config_repo("");
    let out = gasguard_in(
        root.path(),
        &["check", "sub", "--format", "github", "--sandbox", "off"],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("no annotation: {text}"));
    assert!(
        line.starts_with(
            "::error file=sub/model_config.yaml,line=5,col=25,endLine=5,endColumn=36,title=C004 duplicate-key::"
        ),
        "{line}"
    );
    // One line per annotation: newlines in the message are escaped.
    assert!(line.contains("%0Ahelp: "), "{line}");
    assert!(
        text.lines()
            .any(|l| l == "sub: rejected (1 errors, 0 warnings, 0 suppressed)"),
        "{text}"
    );
}

#[test]
fn sarif_fingerprints_survive_unrelated_edits_and_rules_link_to_their_pages() {
    let run = |prefix: &str| {
        let root = bad_config_repo(prefix);
        let out = gasguard_in(
            root.path(),
            &["check", "sub", "--format", "sarif", "--sandbox", "off"],
        );
        let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
        let errors = sarif_schema_errors(&sarif);
        assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
        let result = sarif["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|r| r["ruleId"] == "C004")
            .cloned()
            .expect("C004");
        (sarif, result)
    };
    let (sarif, before) = run("");
    let (_, after) = run("# a comment moves every line down\n\n");
    let region = |r: &serde_json::Value| {
        r["locations"][0]["physicalLocation"]["region"]["startLine"].clone()
    };
    assert_eq!(region(&before), 5);
    assert_eq!(region(&after), 7);
    assert_eq!(
        before["partialFingerprints"], after["partialFingerprints"],
        "a fingerprint must not depend on the line"
    );
    assert_eq!(
        before["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "sub/model_config.yaml"
    );

    // helpUri: Cargo.toml's `repository`, pointing at a page that exists here.
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let base = format!("{}/blob/main/", env!("CARGO_PKG_REPOSITORY"));
    for rule in rules {
        let uri = rule["helpUri"].as_str().expect("helpUri");
        let path = uri
            .strip_prefix(&base)
            .unwrap_or_else(|| panic!("{uri} not under {base}"));
        assert!(repo().join(path).is_file(), "{uri}: {path} does not exist");
    }
    let p101 = rules.iter().find(|r| r["id"] == "P101").expect("P101");
    assert_eq!(p101["properties"]["security-severity"], "9.0");
    assert!(
        p101["properties"]["tags"]
            .as_array()
            .expect("tags")
            .contains(&"security".into())
    );
    let c004 = rules.iter().find(|r| r["id"] == "C004").expect("C004");
    assert!(c004["properties"].get("security-severity").is_none());
}

#[test]
fn several_paths_end_with_a_summary_table() {
    let root = bad_config_repo("");
    let image = repo().join("examples/image");
    let out = gasguard_in(
        root.path(),
        &[
            "check",
            "sub",
            image.to_str().expect("utf8"),
            "--sandbox",
            "off",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("path "))
        .collect();
    assert_eq!(table.len(), 3, "{text}");
    assert!(
        table[0]
            .split_whitespace()
            .eq(["path", "verdict", "errors", "warnings", "time"])
    );
    let row: Vec<&str> = table[1].split_whitespace().collect();
    assert_eq!(&row[..4], ["sub", "rejected", "1", "0"], "{}", table[1]);
    assert!(row[4].ends_with('s'));
    assert!(table[2].contains("examples/image") && table[2].contains("accepted"));
    // One path: no table. Off a terminal: no progress drawing on stderr.
    let one = gasguard_in(root.path(), &["check", "sub", "--sandbox", "off"]);
    assert!(!String::from_utf8_lossy(&one.stdout).contains("verdict"));
    assert!(
        one.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = gasguard(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("gasguard"), "{shell}");
        assert!(text.contains("modality"), "{shell}: options missing");
    }
    assert_eq!(gasguard(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_pages_match_the_command_line() {
    let fresh = tempfile::tempdir().expect("tempdir");
    let out = gasguard(&["man", fresh.path().to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0));
    let mut names: Vec<String> = std::fs::read_dir(fresh.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut committed: Vec<String> = std::fs::read_dir(repo().join("docs/man"))
        .expect("docs/man: run `cargo run -- man docs/man`")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    committed.sort();
    assert_eq!(
        names, committed,
        "docs/man is stale: run `cargo run -- man docs/man`"
    );
    assert!(names.contains(&"gasguard-check.1".to_string()));
    for name in names {
        assert_eq!(
            std::fs::read_to_string(fresh.path().join(&name)).expect("page"),
            std::fs::read_to_string(repo().join("docs/man").join(&name)).expect("page"),
            "docs/man/{name} is stale: run `cargo run -- man docs/man`"
        );
    }
}

#[test]
fn init_creates_a_submission_that_passes_check_for_each_modality() {
    let root = tempfile::tempdir().expect("tempdir");
    let mut dirs = Vec::new();
    for modality in ["image", "video", "audio"] {
        let dir = root.path().join(format!("my-{modality}-detector"));
        let out = gasguard(&["init", dir.to_str().expect("utf8"), "--modality", modality]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("save_file("), "the weights command: {text}");
        let config = std::fs::read_to_string(dir.join("model_config.yaml")).expect("config");
        assert!(
            config.contains(&format!("name: \"my-{modality}-detector\"")),
            "{config}"
        );
        // Static checks, for the slot of that modality: no finding at all.
        let (code, report) = check_json(&dir, &["--modality", modality]);
        assert_eq!(code, 0, "{modality}: {report}");
        assert!(
            codes(&report).is_empty(),
            "{modality}: {:?}",
            codes(&report)
        );
        dirs.push(dir);
    }
    // And the model runs: load_model and a forward pass in the sandbox.
    let python = test_python();
    let mut args = vec![
        "check",
        "--format",
        "json",
        "--sandbox",
        "on",
        "--python",
        &python,
    ];
    args.extend(dirs.iter().map(|d| d.to_str().expect("utf8")));
    let out = gasguard(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{report}");
    for sub in report["submissions"].as_array().expect("subs") {
        assert!(sub["runtime"].is_object(), "the model did not run: {sub}");
    }
    // A folder that is not empty is refused.
    let again = gasguard(&[
        "init",
        dirs[0].to_str().expect("utf8"),
        "--modality",
        "image",
    ]);
    assert_eq!(again.status.code(), Some(2));
}
