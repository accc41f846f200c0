//! Every input a fuzzer ever found (`fuzz/regressions/TARGET/`) is judged by
//! the binary: a verdict (exit 0 or 1; 2 for a policy file), no signal, no
//! panic, within the static stage's time bound. `scripts/fuzz.sh` also
//! replays them through the fuzz targets' own invariants (the structure-aware
//! targets' inputs are generator bytes, so they are replayed only there).

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const MAX_WALL: Duration = Duration::from_secs(2);

fn saved(target: &str) -> Vec<PathBuf> {
    let dir = repo().join("fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README"))
        .collect();
    files.sort();
    files
}

fn judge(label: &Path, args: &[&str], allowed: &[i32]) {
    let start = Instant::now();
    let out = gasguard(args);
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{}: exited by signal; {stderr}", label.display()));
    assert!(
        allowed.contains(&code),
        "{}: exit {code}; {stderr}",
        label.display()
    );
    assert!(
        !stderr.contains("panicked"),
        "{}: {stderr}",
        label.display()
    );
    assert!(wall < MAX_WALL, "{}: took {wall:?}", label.display());
}

#[test]
fn every_saved_fuzzer_input_gets_a_verdict_in_bounds() {
    let mut judged = 0;
    for target in ["zip_intake", "check"] {
        for input in saved(target) {
            let (_dir, zip) = write_temp("input.zip", &std::fs::read(&input).expect("read"));
            judge(
                &input,
                &["check", "--sandbox", "off", zip.to_str().expect("utf-8")],
                &[0, 1],
            );
            judged += 1;
        }
    }
    for (target, file) in [
        ("config", "model_config.yaml"),
        ("python", "model.py"),
        ("safetensors", "model.safetensors"),
    ] {
        for input in saved(target) {
            let body = std::fs::read(&input).expect("read");
            let dir = example_dir(&[(file, Some(&body))]);
            judge(
                &input,
                &[
                    "check",
                    "--sandbox",
                    "off",
                    dir.path().to_str().expect("utf-8"),
                ],
                &[0, 1],
            );
            judged += 1;
        }
    }
    for input in saved("policy") {
        let example = repo().join("examples/image");
        judge(
            &input,
            &[
                "check",
                "--sandbox",
                "off",
                "--policy",
                input.to_str().expect("utf-8"),
                example.to_str().expect("utf-8"),
            ],
            &[0, 1, 2],
        );
        judged += 1;
    }
    assert!(judged >= 1, "no saved inputs were judged");
}
