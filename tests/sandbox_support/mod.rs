//! Running hostile models through `gasguard sandbox` and checking, from
//! outside, that nothing of the run is left: shared by the escape tests.
#![allow(dead_code)]

use std::process::{Command, Stdio};

use crate::common::*;

pub struct Run {
    pub exit: i32,
    pub report: serde_json::Value,
    pub stdout: String,
    pub stderr: String,
    pub gasguard_pid: u32,
}

impl Run {
    pub fn codes(&self) -> Vec<String> {
        codes(&self.report)
    }
    pub fn messages(&self) -> String {
        self.report["submissions"][0]["diagnostics"].to_string()
    }
    /// Rejected (exit 1) with at least one of `codes`.
    pub fn assert_reported(&self, any_of: &[&str]) {
        let found = self.codes();
        assert_eq!(
            self.exit, 1,
            "expected a rejection; found {found:?}\nstderr: {}",
            self.stderr
        );
        assert!(
            found.iter().any(|c| any_of.contains(&c.as_str())),
            "expected one of {any_of:?}, found {found:?}: {}",
            self.messages()
        );
    }
}

/// Runs `body` as the body of load_model (indented here), then a working model.
pub fn run_model(body: &str, extra: &[&str]) -> Run {
    run_source(&model_source(body), extra)
}

/// The body of load_model in a model.py of the image example.
pub fn model_source(body: &str) -> String {
    let indented: String = body.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "import os, sys, time, socket, signal, subprocess, threading, ctypes\nimport torch\n\n\nclass Fine(torch.nn.Module):\n    def forward(self, x):\n        return torch.zeros(x.shape[0], 2)\n\n\ndef load_model(weights_path, num_classes=2):\n{indented}    return Fine()\n"
    )
}

pub fn run_source(model: &str, extra: &[&str]) -> Run {
    let dir = example_dir(&[("model.py", Some(model.as_bytes()))]);
    run_dir(dir.path(), extra)
}

pub fn run_dir(dir: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["sandbox", "--format", "json", dir.to_str().expect("utf8")];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "60"]);
    }
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(&args)
        .env("GASGUARD_PYTHON", test_python())
        .env("GASGUARD_TEST_SECRET", "s3cr3t-parent-environ-canary")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gasguard");
    let gasguard_pid = child.id();
    let out = child.wait_with_output().expect("wait gasguard");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let exit = out
        .status
        .code()
        .unwrap_or_else(|| panic!("gasguard died by signal: {stderr}"));
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}), exit {exit}: {stdout}\n{stderr}"));
    assert_nothing_left(gasguard_pid);
    Run {
        exit,
        report,
        stdout,
        stderr,
        gasguard_pid,
    }
}

/// Nothing of a finished run may be left on the host: no process (found by
/// the run's folder name in its command line, or by the run's cgroup), no
/// folder in the temp dir, no cgroup.
pub fn assert_nothing_left(gasguard_pid: u32) {
    let marker = format!("gasguard-run-{gasguard_pid}-");
    let survivors: Vec<String> = std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter(|e| {
            ["cmdline", "cgroup"].iter().any(|f| {
                std::fs::read(e.path().join(f))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&marker))
            })
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        survivors.is_empty(),
        "processes outlived the run: {survivors:?}"
    );
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&marker))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "the run left folders behind: {left:?}");
    for cgroup in own_cgroup_dirs() {
        let left: Vec<_> = std::fs::read_dir(&cgroup)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&marker))
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "the run left cgroups behind: {left:?}");
    }
}

/// This process's memory and pids cgroup folders (v1) and v2 folder.
pub fn own_cgroup_dirs() -> Vec<std::path::PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            let mount = match controllers {
                "" => "/sys/fs/cgroup/unified",
                c if c.split(',').any(|x| x == "memory") => "/sys/fs/cgroup/memory",
                c if c.split(',').any(|x| x == "pids") => "/sys/fs/cgroup/pids",
                _ => return None,
            };
            Some(std::path::Path::new(mount).join(path.trim_start_matches('/')))
        })
        .collect()
}
