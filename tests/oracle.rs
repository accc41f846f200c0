//! The static-analysis oracle (docs/oracle.md, tests/oracle/): no program that
//! `gasguard check --sandbox off` accepts does anything forbidden when the
//! evaluator runs it. Generates a fixed sample of dangerous programs and
//! their benign twins plus the binding-form x use-form matrix, takes the built
//! binary's static verdict on each, runs each in the fork server and asserts
//! soundness (0 accepted programs with a forbidden event), precision (no lower
//! than the floor below: a regression guard; the target of 95 % is
//! not met yet, see docs/oracle.md), a sound generator (every dangerous program did
//! something forbidden, no benign twin did) and a sound event definition
//! (every control program records exactly the kinds it must).

mod common;
use common::*;

use std::process::Command;

/// Random pairs in the fixed sample (the matrix comes on top).
const SAMPLE: &str = "200";
const SEED: &str = "34";
/// The target (95 %) as the floor: over 10,000 programs precision
/// is 98.6 %, this fixed sample and the matrix 100 %. What is still refused
/// is mostly `metadata-annotation` (weights' metadata evaluated as
/// annotations fails closed by design), partials of the file's own classes
/// and functions, and `functools.partialmethod` (P112, fail closed).
const MIN_PRECISION: f64 = 95.0;

#[test]
fn static_accept_implies_nothing_forbidden_happens() {
    let python = test_python();
    let summary = tempfile::NamedTempFile::new().expect("temp file");
    let out = Command::new(&python)
        .arg(repo().join("tests/oracle/run.py"))
        .args([
            "--n",
            SAMPLE,
            "--seed",
            SEED,
            "--matrix",
            "--controls",
            "--jobs",
            "2",
            "--per-child",
            "8",
            "--show",
            "3",
        ])
        .args(["--min-precision", &MIN_PRECISION.to_string()])
        .arg("--gasguard")
        .arg(env!("CARGO_BIN_EXE_gasguard"))
        .arg("--python")
        .arg(&python)
        .arg("--summary")
        .arg(summary.path())
        .output()
        .expect("run tests/oracle/run.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().expect("run.py exited by signal");
    assert!(
        code == 0 || code == 1,
        "the oracle could not run (exit {code}):\n{stderr}\n{stdout}"
    );
    let text = std::fs::read_to_string(summary.path()).expect("summary");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary JSON");

    let mut failures = Vec::new();
    for set in ["sample", "matrix"] {
        let s = &summary["by_set"][set];
        assert!(
            s["programs"].as_u64().is_some_and(|n| n > 0),
            "no programs in the {set} set: {summary}"
        );
        let violations = s["soundness_violations"].as_u64().expect("count");
        if violations > 0 {
            failures.push(format!(
                "{set}: {violations} statically accepted programs did something forbidden"
            ));
        }
        let precision = s["precision"].as_f64().unwrap_or(0.0);
        if precision < MIN_PRECISION {
            failures.push(format!(
                "{set}: precision {precision:.1}% < {MIN_PRECISION}% (benign twins accepted)"
            ));
        }
        let bugs = s["generator_bugs"].as_u64().expect("count");
        if bugs > 0 {
            failures.push(format!(
                "{set}: {bugs} generator bugs (dangerous programs that did nothing forbidden, or benign twins that did)"
            ));
        }
    }
    // The event definition itself: library behaviour records nothing, the
    // program's own acts record their kind.
    for control in summary["control_failures"]
        .as_array()
        .expect("control_failures")
    {
        failures.push(control.as_str().unwrap_or_default().to_string());
    }
    assert!(
        failures.is_empty(),
        "{}\nviolations by class: {}\n\n{stdout}",
        failures.join("\n"),
        summary["violations_by_class"]
    );
    assert_eq!(
        code, 0,
        "run.py failed although every bound holds:\n{stdout}"
    );
}

/// The generator is deterministic: the same seed and size give the same
/// bytes (so a failing program can be regenerated from its id and seed), and
/// another seed gives other programs.
#[test]
fn generator_is_deterministic_by_seed() {
    let python = test_python();
    let generate = |seed: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new(&python)
            .arg(repo().join("tests/oracle/generate.py"))
            .arg(dir.path())
            .args(["--n", "60", "--seed", seed])
            .output()
            .expect("run generate.py");
        assert!(
            out.status.success(),
            "generate.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files = Vec::new();
        for entry in walk(dir.path()) {
            let rel = entry
                .strip_prefix(dir.path())
                .expect("prefix")
                .to_path_buf();
            files.push((rel, std::fs::read(&entry).expect("read")));
        }
        files.sort();
        files
    };
    let a = generate("7");
    assert!(a.len() > 3 * 60, "too few files: {}", a.len());
    assert!(a == generate("7"), "same seed, different programs");
    assert!(a != generate("8"), "another seed, same programs");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
