//! Policy plugins end to end: the example plugins built from source (Zig
//! and C, plugins/examples/build.sh) on good and bad submissions, in every
//! format; pinning; `rules --plugin`; and the hostile plugins of
//! tests/plugins/hostile/, each stopped with its own error (exit 2).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{example_dir, safetensors, sarif_schema_errors};

/// The examples, built once per test run (a missing tool fails the test:
/// scripts/setup-venv.sh installs them).
fn examples() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-examples");
        let status = Command::new(common::repo().join("plugins/examples/build.sh"))
            .arg(&out)
            .status()
            .expect("run plugins/examples/build.sh");
        assert!(status.success(), "plugins/examples/build.sh failed");
        out
    })
}

fn example(name: &str) -> String {
    examples()
        .join(format!("{name}.wasm"))
        .display()
        .to_string()
}

/// A test plugin in WAT, assembled into a component file by wasm-tools
/// (the venv's, as for the examples: no WAT parser compiled into the tests).
fn wat_plugin(dir: &Path, wat: &str) -> String {
    let source = common::repo().join("tests/plugins").join(wat);
    let path = dir.join(wat.replace(".wat", ".wasm").replace('/', "-"));
    let tool = common::repo().join(".venv/bin/wasm-tools");
    let status = Command::new(&tool)
        .arg("parse")
        .arg(&source)
        .arg("-o")
        .arg(&path)
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}: run scripts/setup-venv.sh", tool.display()));
    assert!(status.success(), "wasm-tools parse {wat} failed");
    path.display().to_string()
}

/// Runs gasguard with its own plugin cache; a run that does not end within
/// a minute is a hang, and fails the test.
fn run(args: &[&str], cache: &Path) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_gasguard"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("GASGUARD_CACHE_DIR", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gasguard");
    let pid = child.id() as i32;
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(child.wait_with_output()));
    match receive.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.expect("gasguard's output"),
        Err(_) => {
            // SAFETY: kill(2) on the child this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("gasguard {args:?} hung");
        }
    }
}

fn check(path: &Path, extra: &[&str], cache: &Path) -> (i32, serde_json::Value, String) {
    let mut args = vec![
        "check",
        "--sandbox",
        "off",
        "--no-config",
        "--format",
        "json",
    ];
    args.push(path.to_str().expect("utf-8"));
    args.extend_from_slice(extra);
    let out = run(&args, cache);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().expect("exit code"), json, stderr)
}

/// The image example with its weights replaced by `header` (tensor data
/// written sparse: a 1.2 GB declared tensor costs no disk).
fn with_weights(header: &str, data_len: u64) -> tempfile::TempDir {
    let dir = example_dir(&[]);
    let path = dir.path().join("model.safetensors");
    std::fs::write(&path, safetensors(header, &[])).expect("write");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_len(8 + header.len() as u64 + data_len)
        .expect("extend");
    dir
}

fn codes(report: &serde_json::Value) -> Vec<String> {
    common::codes(report)
}

#[test]
fn budget_plugin_in_zig_accepts_the_example_and_rejects_an_oversized_model() {
    let cache = tempfile::tempdir().expect("cache");
    let good = common::repo().join("examples/image");
    let (exit, report, err) = check(&good, &["--plugin", &example("budget")], cache.path());
    assert_eq!(exit, 0, "{err}");
    assert!(!codes(&report).iter().any(|c| c.starts_with("X-")));
    assert_eq!(report["submissions"][0]["plugins"][0]["name"], "budget");

    let params: u64 = 300_000_001;
    let header = format!(
        r#"{{"w":{{"dtype":"F32","shape":[{params}],"data_offsets":[0,{}]}}}}"#,
        params * 4
    );
    let bad = with_weights(&header, params * 4);
    let (exit, report, err) = check(bad.path(), &["--plugin", &example("budget")], cache.path());
    let found = codes(&report);
    assert_eq!(exit, 1, "{found:?} {err}");
    assert!(
        found.contains(&"X-budget-001".into()) && found.contains(&"X-budget-002".into()),
        "{found:?}"
    );
    let d = report["submissions"][0]["diagnostics"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["code"] == "X-budget-001"))
        .expect("X-budget-001")
        .clone();
    assert_eq!(d["path"], "model.safetensors");
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("300000001")),
        "{d}"
    );
}

#[test]
fn tensor_names_plugin_in_c_flags_unconventional_names() {
    let cache = tempfile::tempdir().expect("cache");
    let good = common::repo().join("examples/image");
    let (exit, report, err) = check(&good, &["--plugin", &example("tensor-names")], cache.path());
    assert_eq!(
        (exit, codes(&report).iter().any(|c| c.starts_with("X-"))),
        (0, false),
        "{err}"
    );

    let header = r#"{"Encoder.Weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"fc weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}}"#;
    let bad = with_weights(header, 24);
    let (exit, report, err) = check(
        bad.path(),
        &["--plugin", &example("tensor-names")],
        cache.path(),
    );
    let messages: Vec<String> = report["submissions"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d["code"] == "X-tensor-names-001")
        .map(|d| d["message"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(exit, 1, "{err}");
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("Encoder.Weight") && messages[1].contains("fc weight"),
        "{messages:?}"
    );
}

#[test]
fn plugin_findings_show_in_every_format_and_strict_applies() {
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("dir");
    let warn = wat_plugin(dir.path(), "warn.wat");
    let good = common::repo().join("examples/image");
    let good = good.to_str().expect("utf-8");
    let base = [
        "check",
        "--sandbox",
        "off",
        "--no-config",
        good,
        "--plugin",
        &warn,
    ];
    let with = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run(&args, cache.path())
    };
    // A warning: accepted, but rejected under --strict.
    let human = with(&["--format", "human"]);
    let stdout = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("X-warn-001") && stdout.contains("a warning"),
        "{stdout}"
    );
    assert_eq!(with(&["--strict"]).status.code(), Some(1));

    let github = String::from_utf8_lossy(&with(&["--format", "github"]).stdout).into_owned();
    assert!(
        github.contains("::warning") && github.contains("X-warn-001"),
        "{github}"
    );

    let sarif: serde_json::Value =
        serde_json::from_slice(&with(&["--format", "sarif"]).stdout).expect("sarif");
    assert_eq!(sarif_schema_errors(&sarif), Vec::<String>::new());
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["extensions"][0]["name"], "warn");
    assert_eq!(
        run0["tool"]["extensions"][0]["rules"][0]["id"],
        "X-warn-001"
    );
    let result = run0["results"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["ruleId"] == "X-warn-001"))
        .expect("the plugin's result");
    assert_eq!(result["rule"]["toolComponent"]["index"], 0);
    assert_eq!(result["level"], "warning");
}

#[test]
fn settings_pin_plugins_by_hash() {
    let cache = tempfile::tempdir().expect("cache");
    let plugin = example("budget");
    let sha = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(std::fs::read(&plugin).expect("read"));
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let repo = tempfile::tempdir().expect("repo");
    let sub = repo.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    for (name, body) in common::example_files("image") {
        std::fs::write(sub.join(name), body).expect("write");
    }
    std::fs::copy(&plugin, repo.path().join("budget.wasm")).expect("copy");
    let settings = |hash: &str| {
        std::fs::write(
            repo.path().join("gasguard.toml"),
            format!("plugins = [{{ path = \"budget.wasm\", sha256 = \"{hash}\" }}]\n"),
        )
        .expect("write settings");
    };
    let check_sub = || {
        run(
            &[
                "check",
                "--sandbox",
                "off",
                "--format",
                "json",
                sub.to_str().expect("utf-8"),
            ],
            cache.path(),
        )
    };
    settings(&sha);
    let ok = check_sub();
    let report: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("json");
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(
        report["submissions"][0]["plugins"][0]["sha256"],
        sha.as_str()
    );

    settings(&"0".repeat(64));
    let refused = check_sub();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("budget.wasm") && err.contains("pin the new hash"),
        "{err}"
    );
}

#[test]
fn rules_lists_a_plugins_rules() {
    let cache = tempfile::tempdir().expect("cache");
    let out = run(&["rules", "--plugin", &example("budget")], cache.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("X-budget-001") && text.contains("X-budget-002") && text.contains("P101"),
        "{text}"
    );
    let one = run(
        &["rules", "X-budget-002", "--plugin", &example("budget")],
        cache.path(),
    );
    assert!(String::from_utf8_lossy(&one.stdout).contains("10^9 bytes"));
}

#[test]
fn pack_refuses_what_a_plugin_rejects() {
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("dir");
    let header = r#"{"Bad Name":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let bad = with_weights(header, 8);
    let zip = dir.path().join("out.zip");
    let out = run(
        &[
            "pack",
            bad.path().to_str().expect("utf-8"),
            "-o",
            zip.to_str().expect("utf-8"),
            "--sandbox",
            "off",
            "--no-config",
            "--plugin",
            &example("tensor-names"),
        ],
        cache.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("X-tensor-names-001"));
    assert!(!zip.exists());
}

#[test]
fn compiled_plugins_are_cached_by_hash() {
    let cache = tempfile::tempdir().expect("cache");
    let good = common::repo().join("examples/image");
    let (exit, _, err) = check(&good, &["--plugin", &example("budget")], cache.path());
    assert_eq!(exit, 0, "{err}");
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.path().join("plugins"))
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0].extension().is_some_and(|e| e == "cwasm"));
    // A damaged entry is not trusted: it is compiled again.
    std::fs::write(&entries[0], b"garbage").expect("damage");
    let (exit, _, err) = check(&good, &["--plugin", &example("budget")], cache.path());
    assert_eq!(exit, 0, "{err}");
    assert!(std::fs::metadata(&entries[0]).expect("entry").len() > 1000);
}

/// Each hostile plugin, and the words its error must hold.
const HOSTILE: &[(&str, &str)] = &[
    ("endless_loop.wat", "used up its fuel"),
    ("memory_growth.wat", "went over the memory limit"),
    ("trap.wat", "trapped"),
    ("recursion.wat", "overflowed its stack"),
    ("not_json.wat", "returned JSON that is not"),
    ("out_of_bounds.wat", "`check` failed"),
    ("oversized_output.wat", "the limit is 1048576"),
    (
        "imports_wasi.wat",
        "imports `wasi:cli/environment@0.2.0`, which gasguard does not offer",
    ),
    ("wrong_type.wat", "does not have the type"),
    (
        "wrong_version.wat",
        "does not export `gasguard:plugin/policy@1.0.0`",
    ),
];

#[test]
fn hostile_plugins_fail_closed_naming_the_plugin() {
    let cache = tempfile::tempdir().expect("cache");
    let dir = tempfile::tempdir().expect("dir");
    let good = common::repo().join("examples/image");
    for (wat, expected) in HOSTILE {
        let plugin = wat_plugin(dir.path(), &format!("hostile/{wat}"));
        let started = Instant::now();
        let (exit, _, err) = check(&good, &["--plugin", &plugin], cache.path());
        assert_eq!(exit, 2, "{wat}: {err}");
        assert!(
            err.contains(expected),
            "{wat}: expected {expected:?} in: {err}"
        );
        assert!(
            err.contains(&plugin),
            "{wat}: the error names the plugin file: {err}"
        );
        assert!(!err.contains("panicked"), "{wat}: {err}");
        eprintln!("{wat}: {:?}: {}", started.elapsed(), err.trim());
    }
}
