//! Output formats, exit codes and the rules command.

mod common;
use common::*;

#[test]
fn json_report_has_the_documented_shape() {
    let bad = example_dir(&[("model_config.yaml", Some(b"name: x\nversion: '1'\nmodality: image\npreprocessing: {resize: [224, 224]}\nmodel: {num_classes: 2, num_classes: 2}\n"))]);
    let good = repo().join("examples/image");
    let out = gasguard(&[
        "check",
        "--format",
        "json",
        "--sandbox",
        "off",
        good.to_str().expect("utf8"),
        bad.path().to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["verdict"], "reject");
    let subs = doc["submissions"].as_array().expect("submissions");
    assert_eq!(subs.len(), 2);
    assert_eq!(subs[0]["verdict"], "accept");
    assert_eq!(subs[1]["verdict"], "reject");
    assert_eq!(subs[1]["summary"]["errors"], 1);
    let d = &subs[1]["diagnostics"][0];
    for key in [
        "code",
        "severity",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "help",
        "url",
    ] {
        assert!(d.get(key).is_some(), "missing {key} in {d}");
    }
    assert_eq!(d["code"], "C004");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(5), Some(25))
    );
    assert!(
        d["url"]
            .as_str()
            .expect("url")
            .ends_with("docs/rules/C004.md")
    );
}

#[test]
fn sarif_output_validates_against_the_official_schema() {
    // The official schema's `run.language` pattern ends in a bare `]`, valid
    // in ECMA-262 regexes but refused by the Rust validator's regex engine;
    // escaping it matches the same strings.
    let text = std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json"))
        .expect("schema")
        .replace(r#"[a-zA-Z]{2}]?$"#, r#"[a-zA-Z]{2}\\]?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let bad = example_dir(&[
        ("notes.txt", Some(b"x")),
        (
            "model_config.yaml",
            Some(b"name: x\nversion: '1'\nmodality: video\nmodel: {num_classes: 9}\n"),
        ),
    ]);
    let (_zd, zip) = write_temp(
        "bad.zip",
        &example_zip(vec![ZipEntrySpec::new("../evil.txt", b"x")]),
    );
    let out = gasguard(&[
        "check",
        "--format",
        "sarif",
        "--sandbox",
        "off",
        bad.path().to_str().expect("utf8"),
        zip.to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif json");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(results.len() >= 4);
    let c010 = results
        .iter()
        .find(|r| r["ruleId"] == "C010")
        .expect("C010 result");
    assert_eq!(c010["level"], "error");
    assert_eq!(
        c010["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), gasguard::rules::all().count());
    assert!(rules.iter().all(|r| {
        r["helpUri"]
            .as_str()
            .is_some_and(|u| u.contains("docs/rules/"))
    }));
}

#[test]
fn human_report_shows_the_snippet_and_a_verdict_line() {
    let bad = example_dir(&[("model_config.yaml", Some(b"name: x\nversion: '1'\nmodality: image_human\npreprocessing: {resize: [224, 224]}\nmodel: {num_classes: 2}\n"))]);
    let out = gasguard(&[
        "check",
        "--sandbox",
        "off",
        bad.path().to_str().expect("utf8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("modality: image_human"), "{text}");
    assert!(text.contains("C008"), "{text}");
    assert!(text.contains("--vertical human"), "{text}");
    assert!(text.contains(": rejected (1 errors"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "colour without a terminal: {text:?}"
    );
}

#[test]
fn terminal_escapes_from_the_submission_are_neutralised() {
    let (_d, zip) = write_temp(
        "esc.zip",
        &example_zip(vec![ZipEntrySpec::new("a\u{1b}]0;pwned\u{7}.txt", b"x")]),
    );
    let out = gasguard(&[
        "check",
        "--sandbox",
        "off",
        "--color",
        "never",
        zip.to_str().expect("utf8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
}

#[test]
fn exit_codes_for_usage_and_unreadable_paths() {
    assert_eq!(
        gasguard(&["check", "/nonexistent/submission"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(gasguard(&["check"]).status.code(), Some(2));
    assert_eq!(
        gasguard(&["check", "--format", "xml", "x"]).status.code(),
        Some(2)
    );
    // --sandbox on with no usable interpreter: exit 2, never a weaker run.
    let image = repo().join("examples/image");
    let image = image.to_str().expect("utf8");
    let on = gasguard(&[
        "check",
        "--sandbox",
        "on",
        "--python",
        "/nonexistent/python",
        image,
    ]);
    assert_eq!(on.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&on.stderr).contains("no usable Python interpreter"),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
    // auto: the static verdict stands, with a visible warning that nothing ran.
    let out = gasguard(&[
        "check",
        "--format",
        "json",
        "--python",
        "/nonexistent/python",
        image,
    ]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(codes(&report), ["R001"]);
}

#[test]
fn a_malformed_policy_is_exit_2_pointing_at_the_key() {
    let policy = std::fs::read_to_string(repo().join("rules/sn34.yaml"))
        .expect("policy")
        .replace("max_ratio: 200", "max_ratoi: 200");
    let (_d, p) = write_temp("policy.yaml", policy.as_bytes());
    let out = gasguard(&[
        "check",
        "--policy",
        p.to_str().expect("utf8"),
        repo().join("examples/image").to_str().expect("utf8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line = policy
        .lines()
        .position(|l| l.contains("max_ratoi"))
        .expect("line")
        + 1;
    assert!(
        err.contains(&format!("{line}:5: unknown key `max_ratoi`")),
        "{err}"
    );
}

#[test]
fn rules_lists_every_rule_and_prints_one() {
    let out = gasguard(&["rules"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in gasguard::rules::all() {
        assert!(
            text.contains(rule.code),
            "{} missing from `gasguard rules`",
            rule.code
        );
    }
    let one = gasguard(&["rules", "c004"]);
    let text = String::from_utf8_lossy(&one.stdout);
    assert!(text.starts_with("# C004: duplicate-key"), "{text}");
    assert!(text.contains("## Why is this bad?"));
    assert_eq!(gasguard(&["rules", "Z999"]).status.code(), Some(2));
}

#[test]
fn docs_pages_match_the_registry() {
    let docs = repo().join("docs/rules");
    for rule in gasguard::rules::all() {
        let page =
            std::fs::read_to_string(docs.join(format!("{}.md", rule.code))).unwrap_or_else(|_| {
                panic!(
                    "docs/rules/{}.md is missing: run `cargo run -- rules --write-docs docs/rules`",
                    rule.code
                )
            });
        assert_eq!(
            page,
            rule.docs_page(),
            "docs/rules/{}.md is stale: run `cargo run -- rules --write-docs docs/rules`",
            rule.code
        );
    }
    let index = std::fs::read_to_string(docs.join("README.md")).expect("index");
    assert_eq!(
        index,
        gasguard::cli::rules_index(),
        "docs/rules/README.md is stale"
    );
    let pages = std::fs::read_dir(&docs).expect("docs").count();
    assert_eq!(
        pages,
        gasguard::rules::all().count() + 1,
        "docs/rules holds pages for rules that no longer exist"
    );
}
