//! gasguard where model repositories live, tested with the real tools
//! (installed by scripts/setup-venv.sh from python/requirements-test.txt):
//! the wheel built by maturin and run from a fresh venv, the pre-commit
//! hook run by pre-commit itself, and the Action linted by actionlint.
//! Everything runs offline: no index, no download, a temporary
//! PRE_COMMIT_HOME.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tool from the test venv (`.venv/bin/NAME`); a test that needs it fails,
/// never skips, without it.
fn venv_tool(name: &str) -> PathBuf {
    let python = PathBuf::from(test_python());
    let tool = python.with_file_name(name);
    assert!(
        tool.exists(),
        "{} is missing: run scripts/setup-venv.sh (python/requirements-test.txt)",
        tool.display()
    );
    tool
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_wheel_installs_into_a_fresh_venv_and_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let wheels = tmp.path().join("wheels");
    // The dev profile and the crate's own target directory: every
    // dependency is reused from `cargo test`'s build, only gasguard itself
    // is compiled again (cargo keys artifacts by profile name, and `maturin
    // build --profile test` would package the test harness). A release
    // build would compile every dependency a second time.
    let started = std::time::Instant::now();
    let out = run(Command::new(venv_tool("maturin"))
        .args([
            "build",
            "--profile",
            "dev",
            "--compatibility",
            "linux",
            "--out",
        ])
        .arg(&wheels)
        .current_dir(repo())
        .env("CARGO_NET_OFFLINE", "true"));
    assert!(out.status.success(), "maturin build: {}", text(&out));
    eprintln!("maturin build: {:.1}s", started.elapsed().as_secs_f64());
    let wheel = std::fs::read_dir(&wheels)
        .expect("wheels")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .expect("a wheel");
    let name = wheel
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with(&format!("gasguard-{}-", env!("CARGO_PKG_VERSION"))),
        "the wheel's version is Cargo.toml's: {name}"
    );

    let venv = tmp.path().join("venv");
    let out = run(Command::new(test_python()).args(["-m", "venv"]).arg(&venv));
    assert!(out.status.success(), "venv: {}", text(&out));
    let out = run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--no-index",
            "--disable-pip-version-check",
            "-q",
        ])
        .arg(&wheel));
    assert!(out.status.success(), "pip install: {}", text(&out));

    let installed = venv.join("bin/gasguard");
    let out = run(Command::new(&installed).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("gasguard {}", env!("CARGO_PKG_VERSION"))
    );
    let out = run(Command::new(&installed)
        .args(["check", "examples/image", "--sandbox", "off"])
        .current_dir(repo()));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("examples/image: accepted"));
}

fn git(dir: &Path, args: &[&str]) {
    let out = run(Command::new("git")
        .args([
            "-c",
            "user.name=gasguard-test",
            "-c",
            "user.email=test@invalid",
        ])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir));
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
}

fn write(path: &Path, body: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, body).expect("write");
}

#[test]
fn the_pre_commit_hook_passes_a_good_submission_and_stops_a_bad_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The hook repository: exactly this repository's hook definition.
    let hooks = tmp.path().join("hooks");
    write(
        &hooks.join(".pre-commit-hooks.yaml"),
        std::fs::read(repo().join(".pre-commit-hooks.yaml")).expect("hooks file"),
    );
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);

    // A model repository with a good and a bad submission.
    let models = tmp.path().join("models");
    for (name, body) in example_files("image") {
        write(&models.join("good").join(&name), &body);
        let body = if name == "model.py" {
            String::from_utf8(body)
                .expect("utf8")
                .replace("import torch\n", "import os\nimport torch\n")
                .into_bytes()
        } else {
            body
        };
        write(&models.join("bad").join(&name), body);
    }
    let settings = |listed: &[&str]| {
        let mut text = String::from("sandbox = \"off\"\n");
        for path in listed {
            text.push_str(&format!(
                "\n[[submission]]\npath = \"{path}\"\nmodality = \"image\"\n"
            ));
        }
        text
    };
    write(&models.join("gasguard.toml"), settings(&["good", "bad"]));
    git(&models, &["init", "-q"]);
    git(&models, &["add", "."]);

    // pre-commit finds `gasguard` on PATH (language: system): the binary under test.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_gasguard"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let try_repo = || {
        run(Command::new(venv_tool("pre-commit"))
            .args(["try-repo"])
            .arg(&hooks)
            .args(["gasguard", "--all-files", "--color", "never"])
            .current_dir(&models)
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", tmp.path().join("cache"))
            .env("NO_COLOR", "1"))
    };
    let out = try_repo();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("Failed"), "{log}");
    assert!(
        log.contains("P101") && log.contains("bad: rejected"),
        "{log}"
    );
    assert!(log.contains("good: accepted"), "{log}");

    write(&models.join("gasguard.toml"), settings(&["good"]));
    git(&models, &["add", "."]);
    let out = try_repo();
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("Passed"), "{log}");
}

/// actionlint on the repository in `dir`, deterministic: no shellcheck or
/// pyflakes integration even where they are installed.
fn actionlint(dir: &Path, files: &[&Path]) -> Output {
    run(Command::new(venv_tool("actionlint"))
        .args(["-no-color", "-shellcheck=", "-pyflakes="])
        .args(files)
        .current_dir(dir))
}

#[test]
fn the_action_and_the_example_workflow_pass_actionlint() {
    let example = repo().join("docs/ci/gasguard-workflow.yml");
    let out = actionlint(&repo(), &[&example]);
    assert!(out.status.success(), "{}", text(&out));

    // The same workflow calling the action in this repository (`uses: ./`),
    // so actionlint reads action.yml and checks the inputs against it.
    let tmp = tempfile::tempdir().expect("tempdir");
    write(
        &tmp.path().join("action.yml"),
        std::fs::read(repo().join("action.yml")).expect("action.yml"),
    );
    let workflow = std::fs::read_to_string(&example)
        .expect("workflow")
        .replace("gasguard/gasguard@main", "./");
    assert!(workflow.contains("uses: ./\n"));
    let wf = tmp.path().join(".github/workflows/gasguard.yml");
    write(&wf, &workflow);
    git(tmp.path(), &["init", "-q"]);
    let out = actionlint(tmp.path(), &[&wf]);
    assert!(out.status.success(), "{}", text(&out));

    // The lint is real: an input the action does not declare is an error.
    write(
        &wf,
        workflow.replace(
            "args: --sandbox off",
            "args: --sandbox off\n          sarif: out.sarif",
        ),
    );
    let out = actionlint(tmp.path(), &[&wf]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("input \"sarif\" is not defined"),
        "{}",
        text(&out)
    );
}
