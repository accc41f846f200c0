//! Per-repository settings (`gasguard.toml`, `[tool.gasguard]`): discovery
//! upward from the checked path, the command line over the file, refusal of
//! bad files with their location, refusal to ignore policy rules, and
//! ignored hardening findings kept in JSON and SARIF as suppressed.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Output};

/// Runs gasguard in `dir` (the current directory matters: discovery and
/// relative paths).
fn gasguard_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run gasguard")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A repository: `models/img` holds the image example plus `notes.txt`
/// (an L009 unused-file warning, a hardening rule); `settings` is written
/// as `gasguard.toml` at the root when given.
fn repo_with(settings: Option<&str>) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let sub = root.path().join("models/img");
    std::fs::create_dir_all(&sub).expect("mkdir");
    for (name, body) in example_files("image") {
        std::fs::write(sub.join(name), body).expect("write");
    }
    std::fs::write(sub.join("notes.txt"), "training notes\n").expect("write");
    if let Some(text) = settings {
        std::fs::write(root.path().join("gasguard.toml"), text).expect("write");
    }
    root
}

fn codes_of(doc: &serde_json::Value, key: &str) -> Vec<String> {
    doc["submissions"][0][key]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn settings_are_found_upward_and_the_command_line_wins() {
    let root = repo_with(Some(
        "format = \"json\"\nsandbox = \"off\"\n\n[[submission]]\npath = \"models/img\"\nmodality = \"video\"\n",
    ));
    let sub = root.path().join("models/img");
    let sub_arg = sub.to_str().expect("utf8");
    let elsewhere = tempfile::tempdir().expect("tempdir");

    // Found from the checked path (run elsewhere): JSON, and the file's
    // modality for this folder (video, while the config says image: C009).
    let out = gasguard_in(elsewhere.path(), &["check", sub_arg]);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(codes_of(&doc, "diagnostics").contains(&"C009".to_string()));
    assert!(codes_of(&doc, "diagnostics").contains(&"L009".to_string()));

    // The command line wins: --modality over the file's, --format over the file's.
    let out = gasguard_in(
        elsewhere.path(),
        &["check", sub_arg, "--modality", "image", "--format", "sarif"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sarif = json(&out);
    assert_eq!(sarif["version"], "2.1.0");

    // No paths: the file's submissions, found from the current directory
    // (here a subdirectory of the repository).
    let out = gasguard_in(&root.path().join("models"), &["check"]);
    let doc = json(&out);
    assert_eq!(doc["submissions"].as_array().expect("subs").len(), 1);
    // Shown relative to the current directory.
    assert_eq!(doc["submissions"][0]["path"], "img");

    // --no-config: the defaults (human output, no modality).
    let out = gasguard_in(
        elsewhere.path(),
        &["check", sub_arg, "--no-config", "--sandbox", "off"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": accepted"));
}

#[test]
fn strict_from_the_file_and_its_command_line_override() {
    let root = repo_with(Some(
        "format = \"json\"\nsandbox = \"off\"\nstrict = true\n",
    ));
    let sub = root.path().join("models/img");
    let sub_arg = sub.to_str().expect("utf8");
    // strict = true: the L009 warning is an error.
    let out = gasguard(&["check", sub_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json(&out)["submissions"][0]["summary"]["errors"], 1);
    // --no-strict wins over the file.
    let out = gasguard(&["check", sub_arg, "--no-strict"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn pyproject_tool_gasguard_is_read_and_a_pyproject_without_it_is_passed_over() {
    let root = repo_with(None);
    std::fs::write(
        root.path().join("pyproject.toml"),
        "[project]\nname = \"my-detector\"\n\n[tool.gasguard]\nformat = \"json\"\nsandbox = \"off\"\n",
    )
    .expect("write");
    // A nearer pyproject.toml without [tool.gasguard] does not stop the search.
    std::fs::write(
        root.path().join("models/pyproject.toml"),
        "[tool.ruff]\nline-length = 100\n",
    )
    .expect("write");
    let sub = root.path().join("models/img");
    let out = gasguard(&["check", sub.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["verdict"], "accept");
    // gasguard.toml beside it comes first.
    std::fs::write(
        root.path().join("gasguard.toml"),
        "format = \"sarif\"\nsandbox = \"off\"\n",
    )
    .expect("write");
    let out = gasguard(&["check", sub.to_str().expect("utf8")]);
    assert_eq!(json(&out)["version"], "2.1.0");
}

/// Writes `settings` as the repository's gasguard.toml, runs check, and
/// returns (exit code, stderr).
fn refused(settings: &str) -> (Option<i32>, String) {
    let root = repo_with(Some(settings));
    let sub = root.path().join("models/img");
    let out = gasguard(&["check", "--sandbox", "off", sub.to_str().expect("utf8")]);
    (out.status.code(), stderr(&out))
}

#[test]
fn a_bad_settings_file_is_exit_2_with_each_location() {
    let (code, err) = refused("format = \"json\"\nformatt = \"json\"\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("gasguard.toml:2:1: unknown field `formatt`"),
        "{err}"
    );

    let (code, err) = refused("sandbox = \"off\"\nformat = \"xml\"\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "gasguard.toml:2:10: `format` is `xml`; expected one of: human, json, sarif, github"
        ),
        "{err}"
    );

    let (code, err) = refused("strict = \"yes\"\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("gasguard.toml:1:10:"), "{err}");

    let (code, err) = refused("[[submission]]\npath = \"models/img\"\nmodality = \"3d\"\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("gasguard.toml:3:12: `modality` is `3d`"),
        "{err}"
    );

    let (code, err) = refused("policy = \"nope.yaml\"\n[[submission]]\npath = \"models/gone\"\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("gasguard.toml:1:10: policy file `nope.yaml` does not exist"),
        "{err}"
    );
    assert!(
        err.contains("gasguard.toml:3:8: submission `models/gone` does not exist"),
        "{err}"
    );
}

#[test]
fn policy_rules_cannot_be_ignored_and_hardening_rules_need_a_reason() {
    // Every problem is reported, each with its place.
    let (code, err) = refused(
        "[[ignore]]\nrule = \"P101\"\nreason = \"we need os\"\n\n[[ignore]]\nrule = \"L009\"\n\n[[ignore]]\nrule = \"unused-file\"\nreason = \"  \"\n\n[[ignore]]\nrule = \"Z999\"\nreason = \"x\"\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("gasguard.toml:2:8: P101 (import-not-allowed) is a policy rule"),
        "{err}"
    );
    assert!(
        err.contains("gasguard.toml:5:1: ignoring L009 needs a `reason`"),
        "{err}"
    );
    assert!(
        err.contains("gasguard.toml:10:10: `reason` is empty"),
        "{err}"
    );
    assert!(err.contains("gasguard.toml:13:8: no rule `Z999`"), "{err}");
    // The same refusal for [tool.gasguard] in pyproject.toml, located in that file.
    let root = repo_with(None);
    std::fs::write(
        root.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[[tool.gasguard.ignore]]\nrule = \"R012\"\nreason = \"the sandbox is too strict\"\n",
    )
    .expect("write");
    let sub = root.path().join("models/img");
    let out = gasguard(&["check", "--sandbox", "off", sub.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pyproject.toml:5:8: R012 (sandbox-violation) is a policy rule"),
        "{}",
        stderr(&out)
    );
}

const IGNORE_L009: &str = "format = \"json\"\nsandbox = \"off\"\nstrict = true\n\n[[ignore]]\nrule = \"L009\"\nreason = \"training notes travel with the model on purpose\"\n";

#[test]
fn ignored_findings_leave_the_verdict_but_stay_in_json_as_suppressed() {
    let root = repo_with(Some(IGNORE_L009));
    let sub = root.path().join("models/img");
    let out = gasguard(&["check", sub.to_str().expect("utf8")]);
    // strict would make L009 an error; ignored, it no longer counts.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    assert!(codes_of(&doc, "diagnostics").is_empty(), "{doc}");
    assert_eq!(codes_of(&doc, "suppressed"), ["L009"]);
    let s = &doc["submissions"][0]["suppressed"][0];
    assert_eq!(
        s["suppression"]["reason"],
        "training notes travel with the model on purpose"
    );
    assert_eq!(doc["submissions"][0]["summary"]["suppressed"], 1);

    // A policy finding in the same submission still rejects it.
    std::fs::write(
        sub.join("model.py"),
        std::fs::read_to_string(repo().join("examples/image/model.py"))
            .expect("model.py")
            .replace("import torch\n", "import os\nimport torch\n"),
    )
    .expect("write");
    let out = gasguard(&["check", sub.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(codes_of(&json(&out), "diagnostics").contains(&"P101".to_string()));
}

#[test]
fn ignored_findings_are_sarif_suppressions_with_relative_paths_and_valid_sarif() {
    let root = repo_with(Some(IGNORE_L009));
    // Run from the repository root, as the Action does: paths relative to it.
    let out = gasguard_in(root.path(), &["check", "models/img", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sarif = json(&out);
    let errors = sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
    let run = &sarif["runs"][0];
    let root_uri = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT%");
    assert!(
        root_uri.starts_with("file:///") && root_uri.ends_with('/'),
        "{root_uri}"
    );
    let results = run["results"].as_array().expect("results");
    let l009 = results
        .iter()
        .find(|r| r["ruleId"] == "L009")
        .expect("the suppressed L009 result is present");
    let location = &l009["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "models/img/notes.txt");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    assert_eq!(l009["suppressions"][0]["kind"], "external");
    assert_eq!(
        l009["suppressions"][0]["justification"],
        "training notes travel with the model on purpose"
    );
    assert!(
        l009["partialFingerprints"]["gasguard/v1"]
            .as_str()
            .is_some_and(|f| f.len() == 64)
    );
}

#[test]
fn rules_shows_which_rules_are_policy_and_which_hardening() {
    let out = gasguard(&["rules"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |code: &str| {
        text.lines()
            .find(|l| l.starts_with(code))
            .unwrap_or_else(|| panic!("{code} missing"))
            .to_string()
    };
    assert!(line("P101").contains(" policy "), "{}", line("P101"));
    assert!(line("L009").contains(" hardening "), "{}", line("L009"));
    let page = String::from_utf8_lossy(&gasguard(&["rules", "L009"]).stdout).into_owned();
    assert!(page.contains("Class: **hardening**"), "{page}");
}
