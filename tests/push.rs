//! `gasguard push` against independent implementations, offline, on
//! 127.0.0.1 only: hotkey files written by PyPI bittensor-wallet, Epistula
//! signatures verified by it, a mock upload server (tests/push/mock_upload.py)
//! with scripted answers, and a mock chain node (tests/push/mock_chain.py)
//! that decodes extrinsics with PyPI scalecodec and serves the real runtime
//! metadata from ../shared/chain/.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A mock server process, stopped when dropped.
struct Mock {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
    _script: Option<tempfile::TempDir>,
}

impl Mock {
    fn start(script: &str, args: &[&str]) -> Mock {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log.jsonl");
        std::fs::write(&log, "").expect("log");
        let mut child = Command::new(common::test_python())
            .arg(common::repo().join("tests/push").join(script))
            .arg("--log")
            .arg(&log)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the mock");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("port line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} did not start: {line:?}"));
        Mock {
            child,
            port,
            log,
            _dir: dir,
            _script: None,
        }
    }

    fn upload(script: Option<&Value>) -> Mock {
        match script {
            None => Mock::start("mock_upload.py", &[]),
            Some(s) => {
                let file = tempfile::NamedTempFile::new().expect("script file");
                std::fs::write(file.path(), s.to_string()).expect("script");
                let (_, path) = file.keep().expect("keep");
                Mock::start(
                    "mock_upload.py",
                    &["--script", path.to_str().expect("utf-8")],
                )
            }
        }
    }

    fn chain(registered: &[&str], extra: &[&str]) -> Mock {
        let metadata = common::repo().join("../shared/chain/bittensor-tests-metadata-v14.hex");
        assert!(
            metadata.exists(),
            "missing {} (the shared chain data)",
            metadata.display()
        );
        let mut args = vec!["--metadata", metadata.to_str().expect("utf-8")];
        args.extend_from_slice(extra);
        args.push("--registered");
        args.extend_from_slice(registered);
        Mock::start("mock_chain.py", &args)
    }

    fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .expect("log")
            .lines()
            .map(|l| serde_json::from_str(l).expect("log line"))
            .collect()
    }

    fn count(&self, key: &str, value: &str) -> usize {
        self.entries().iter().filter(|e| e[key] == value).count()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fixture hotkeys written by bittensor-wallet (tests/push/make_wallet.py).
struct Wallet {
    dir: tempfile::TempDir,
    info: Value,
}

/// Generated once per test run (the library's key derivation and $NACL
/// encryption take seconds), then copied into each test's own folder.
fn wallet() -> Wallet {
    static GENERATED: std::sync::OnceLock<(PathBuf, Value)> = std::sync::OnceLock::new();
    let (source, info) = GENERATED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("push-wallet-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let out = Command::new(common::test_python())
            .arg(common::repo().join("tests/push/make_wallet.py"))
            .arg(&dir)
            .arg("miner")
            .output()
            .expect("make_wallet.py");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let info = serde_json::from_str(text.lines().last().expect("json line")).expect("json");
        (dir, info)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(source, dir.path());
    Wallet {
        dir,
        info: info.clone(),
    }
}

impl Wallet {
    fn ss58(&self, hotkey: &str) -> &str {
        self.info[hotkey].as_str().expect("address")
    }

    fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in self.info["secrets"].as_array().expect("secrets") {
            let s = s.as_str().expect("secret");
            out.push(s.to_string());
            if let Some(hex) = s.strip_prefix("0x") {
                out.push(hex.to_string());
                // Any 16-hex-digit piece of a secret is a leak too.
                out.push(hex[8..24].to_string());
            }
        }
        out
    }
}

/// One push environment: a data folder and a wallet.
struct Env {
    data: tempfile::TempDir,
    wallet: Wallet,
}

impl Env {
    fn new() -> Env {
        Env {
            data: tempfile::tempdir().expect("tempdir"),
            wallet: wallet(),
        }
    }

    fn push(&self, hotkey: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gasguard"));
        cmd.arg("push")
            .args([
                "--wallet-path",
                self.wallet.dir.path().to_str().expect("utf-8"),
            ])
            .args(["--wallet-name", "miner", "--wallet-hotkey", hotkey])
            .args(["--sandbox", "off"])
            .args(args)
            .env("GASGUARD_DATA_DIR", self.data.path())
            .env("GASGUARD_HTTP_BACKOFF_MS", "20")
            .env("NO_COLOR", "1")
            .env_remove("BT_WALLET_PATH")
            .env_remove("BT_WALLET_NAME")
            .env_remove("BT_WALLET_HOTKEY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run gasguard push")
    }

    /// Every file gasguard wrote under its data folder, as text.
    fn written(&self) -> String {
        let mut out = String::new();
        for e in walkdir::WalkDir::new(self.data.path())
            .into_iter()
            .flatten()
        {
            if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "json") {
                out.push_str(&std::fs::read_to_string(e.path()).expect("read"));
            }
        }
        out
    }

    fn journals(&self) -> Vec<Value> {
        let dir = self.data.path().join("journal");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| serde_json::from_slice(&std::fs::read(e.path()).expect("read")).expect("json"))
            .collect()
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn submission(modality: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(&format!("{modality}-model"))
        .tempdir()
        .expect("tempdir");
    for (name, body) in common::example_files(modality) {
        std::fs::write(dir.path().join(name), body).expect("write");
    }
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn upload_url(m: &Mock) -> String {
    format!("http://127.0.0.1:{}/upload", m.port)
}

fn chain_url(m: &Mock) -> String {
    format!("ws://127.0.0.1:{}", m.port)
}

/// `push` applies the gate's plugins: a plugin that fails stops the push
/// before anything is signed or sent (exit 2, naming the plugin).
#[test]
fn push_runs_the_gates_plugins() {
    let env = Env::new();
    let sub = submission("image");
    let dir = tempfile::tempdir().expect("dir");
    let plugin = dir.path().join("trap.wasm");
    let status = Command::new(common::repo().join(".venv/bin/wasm-tools"))
        .arg("parse")
        .arg(common::repo().join("tests/plugins/hostile/trap.wat"))
        .arg("-o")
        .arg(&plugin)
        .status()
        .expect("wasm-tools (scripts/setup-venv.sh installs it)");
    assert!(status.success());
    let out = env.push(
        "full",
        &[
            "--dry-run",
            "--skip-chain",
            path(sub.path()),
            "--plugin",
            path(&plugin),
        ],
        &[("GASGUARD_CACHE_DIR", path(dir.path()))],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("trap.wasm") && text(&out).contains("trapped"),
        "{}",
        text(&out)
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("{\"filename\""),
        "{}",
        text(&out)
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn hotkey_files_give_bittensor_wallets_address_and_signatures_it_verifies() {
    let env = Env::new();
    let sub = submission("image");
    let library = env.wallet.info["library"]
        .as_str()
        .expect("library address");
    for hotkey in ["full", "private", "phrase"] {
        let out = env.push(
            hotkey,
            &["--dry-run", "--skip-chain", path(sub.path())],
            &[],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{hotkey}: {}", text(&out));
        assert!(
            stdout.contains(&format!("hotkey: {library}")),
            "{hotkey}: SS58 differs from bittensor-wallet's {library}: {}",
            text(&out)
        );
        assert_eq!(env.wallet.ss58(hotkey), library);
        verify_dry_run_signature(&stdout);
    }
}

/// The dry run's Epistula headers verify with bittensor-wallet, and a
/// tampered body does not.
fn verify_dry_run_signature(stdout: &str) {
    let header = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in the dry run:\n{stdout}"))
            .to_string()
    };
    let body = stdout
        .lines()
        .find(|l| l.starts_with("{\"filename\""))
        .expect("presign body");
    let check = r#"
import hashlib, sys
from bittensor_wallet import Keypair
body, uuid, ts, who, sig, tamper = sys.argv[1:7]
if tamper == "1":
    body = body.replace('"image"', '"video"')
msg = f"{hashlib.sha256(body.encode()).hexdigest()}.{uuid}.{ts}."
print(Keypair(ss58_address=who).verify(msg.encode(), bytes.fromhex(sig[2:])))
"#;
    for (tamper, want) in [("0", "True"), ("1", "False")] {
        let out = Command::new(common::test_python())
            .args(["-c", check, body])
            .arg(header("Epistula-Uuid"))
            .arg(header("Epistula-Timestamp"))
            .arg(header("Epistula-Signed-By"))
            .arg(header("Epistula-Request-Signature"))
            .arg(tamper)
            .output()
            .expect("python");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            want,
            "tamper={tamper}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(header("Epistula-Version"), "2");
}

#[test]
fn encrypted_hotkey_is_refused_with_advice_and_no_secret() {
    let env = Env::new();
    let sub = submission("image");
    let out = env.push("encrypted", &["--dry-run", path(sub.path())], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("$NACL") && all.contains("regen-hotkey"),
        "{all}"
    );
}

#[test]
fn damaged_hotkey_file_is_refused_without_quoting_it() {
    let env = Env::new();
    let sub = submission("image");
    let file = env.wallet.dir.path().join("miner/hotkeys/private");
    let original = std::fs::read_to_string(&file).expect("read");
    // Another key's public fields: the secret must not be accepted for them.
    let other = env.wallet.ss58("unregistered");
    let edited: Value = serde_json::from_str(&original).expect("json");
    let mut edited = edited.as_object().expect("object").clone();
    edited.remove("publicKey");
    edited.remove("accountId");
    edited.insert("ss58Address".into(), Value::String(other.to_string()));
    std::fs::write(&file, Value::Object(edited).to_string()).expect("write");
    let out = env.push("private", &["--dry-run", path(sub.path())], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("does not match ss58Address"),
        "{}",
        text(&out)
    );
    for s in env.wallet.secrets() {
        assert!(!text(&out).contains(&s), "a secret leaked: {}", text(&out));
    }
}

// ---------------------------------------------------------------- upload

/// Runs an upload-only push against a scripted mock.
fn upload_scenario(script: Value, extra: &[&str]) -> (Output, Mock) {
    let env = Env::new();
    let sub = submission("image");
    let mock = Mock::upload(Some(&script));
    let url = upload_url(&mock);
    let mut args = vec!["--skip-chain", "--upload-endpoint", &url];
    args.extend_from_slice(extra);
    args.push(path(sub.path()));
    let out = env.push("full", &args, &[]);
    (out, mock)
}

#[test]
fn upload_succeeds_with_verified_signatures_and_a_sized_put() {
    let (out, mock) = upload_scenario(serde_json::json!({}), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let log = mock.entries();
    let endpoints: Vec<&str> = log.iter().filter_map(|e| e["endpoint"].as_str()).collect();
    assert_eq!(endpoints, ["presigned", "put", "confirm"], "{log:?}");
    assert!(
        log.iter()
            .filter(|e| e["method"] == "POST")
            .all(|e| e["signature_ok"] == true)
    );
    let put = &log[1];
    assert!(put["transfer_encoding"].is_null(), "PUT was chunked: {put}");
    assert_eq!(put["content_type"], "application/octet-stream");
    assert_eq!(put["content_length"], put["size"].to_string());
    assert_eq!(put["sha256"], log[0]["body"]["expected_hash"]);
}

#[test]
fn documented_refusals_are_mapped_and_never_retried() {
    let cases = [
        (
            409,
            serde_json::json!({"detail": "file with this hash already exists"}),
            "already has this exact file",
        ),
        (
            409,
            serde_json::json!({"detail": "burn reservation pending"}),
            "burn reservation pending",
        ),
        (
            403,
            serde_json::json!({"detail": "submission limit reached"}),
            "coldkey",
        ),
        (
            503,
            serde_json::json!({"error": "Uploads for image are disabled"}),
            "between competition cycles",
        ),
        (
            400,
            serde_json::json!({"message": "bad field"}),
            "--vertical",
        ),
    ];
    for (status, body, expect) in cases {
        let script = serde_json::json!({"presigned": [{"status": status, "json": body}]});
        let (out, mock) = upload_scenario(script, &[]);
        assert_eq!(out.status.code(), Some(3), "{status}: {}", text(&out));
        assert!(text(&out).contains(expect), "{status}: {}", text(&out));
        assert_eq!(
            mock.count("endpoint", "presigned"),
            1,
            "{status} was retried"
        );
        assert_eq!(mock.count("endpoint", "put"), 0);
    }
}

#[test]
fn server_errors_and_dropped_connections_are_retried() {
    let script = serde_json::json!({
        "presigned": [{"status": 500, "json": {"detail": "boom"}}, {"status": 502, "json": {}}],
        "put": [{"drop": true}],
        "confirm": [{"status": 504, "json": {}}],
    });
    let (out, mock) = upload_scenario(script, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(mock.count("endpoint", "presigned"), 3);
    assert_eq!(mock.count("endpoint", "put"), 2);
    assert_eq!(mock.count("endpoint", "confirm"), 2);
}

#[test]
fn persistent_server_errors_give_up_after_bounded_retries() {
    let five = serde_json::json!({"status": 500, "json": {"detail": "down"}});
    let script = serde_json::json!({"presigned": [five.clone(), five.clone(), five.clone(), five.clone(), five]});
    let (out, mock) = upload_scenario(script, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(mock.count("endpoint", "presigned"), 4);
    assert!(text(&out).contains("after 4 attempts"), "{}", text(&out));
}

#[test]
fn storage_errors_are_read_from_r2_xml() {
    for (status, code, retried) in [(400, "BadDigest", false), (403, "AccessDenied", false)] {
        let script = serde_json::json!({"put": [{"status": status, "xml": [code, "scripted"]}]});
        let (out, mock) = upload_scenario(script, &[]);
        assert_eq!(out.status.code(), Some(3), "{code}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("{code}: scripted")),
            "{}",
            text(&out)
        );
        assert_eq!(mock.count("endpoint", "put"), 1 + retried as usize);
        assert_eq!(mock.count("endpoint", "confirm"), 0);
    }
}

#[test]
fn human_vertical_audio_is_refused_before_sending() {
    let env = Env::new();
    let sub = submission("audio");
    let mock = Mock::upload(None);
    let url = upload_url(&mock);
    let out = env.push(
        "full",
        &[
            "--skip-chain",
            "--vertical",
            "human",
            "--upload-endpoint",
            &url,
            path(sub.path()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--vertical human has no audio"),
        "{}",
        text(&out)
    );
    assert!(mock.entries().is_empty());
}

// ---------------------------------------------------------------- gate, dry run

#[test]
fn dry_run_and_rejected_submissions_send_nothing() {
    let env = Env::new();
    let upload = Mock::upload(None);
    let chain = Mock::chain(&[env.wallet.ss58("full")], &[]);
    let (u, c) = (upload_url(&upload), chain_url(&chain));
    let good = submission("video");
    let out = env.push(
        "full",
        &[
            "--dry-run",
            "--upload-endpoint",
            &u,
            "--network",
            &c,
            path(good.path()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unsigned extrinsic") && stdout.contains("\"modality\":\"video\""),
        "{stdout}"
    );
    // The bad one: model.py imports a module the policy bans.
    let bad = submission("image");
    std::fs::write(bad.path().join("model.py"), "import os\nos.system('id')\n").expect("write");
    let out = env.push(
        "full",
        &["--upload-endpoint", &u, "--network", &c, path(bad.path())],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // Both together: one rejected source stops the other too.
    let out = env.push(
        "full",
        &[
            "--upload-endpoint",
            &u,
            "--network",
            &c,
            path(good.path()),
            path(bad.path()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        upload.entries().is_empty(),
        "the upload mock saw {:?}",
        upload.entries()
    );
    assert!(
        chain.entries().is_empty(),
        "the chain mock saw {:?}",
        chain.entries()
    );
    assert!(env.journals().is_empty());
}

// ---------------------------------------------------------------- chain, end to end

fn full_push(
    env: &Env,
    upload: &Mock,
    chain: &Mock,
    src: &Path,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Output {
    let (u, c) = (upload_url(upload), chain_url(chain));
    let mut args = vec![
        "--upload-endpoint",
        &u,
        "--network",
        &c,
        "--retry-delay",
        "0",
        "--max-retries",
        "1",
    ];
    args.extend_from_slice(extra);
    args.push(path(src));
    env.push("full", &args, envs)
}

#[test]
fn each_modality_is_uploaded_committed_and_verified() {
    let env = Env::new();
    let upload = Mock::upload(None);
    let chain = Mock::chain(&[env.wallet.ss58("full")], &[]);
    let mut printed = String::new();
    for modality in ["image", "video", "audio"] {
        let sub = submission(modality);
        let flag = format!("--{modality}-model");
        let (u, c) = (upload_url(&upload), chain_url(&chain));
        let out = env.push(
            "full",
            &[
                "--upload-endpoint",
                &u,
                "--network",
                &c,
                &flag,
                path(sub.path()),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{modality}: {}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("registered in block"));
        printed.push_str(&text(&out));
        // --status reads the commitment back and finds this push's journal.
        let out = env.push("full", &["--status", "--network", &c], &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        printed.push_str(&text(&out));
        // The documented bytes: key first, then hash.
        assert!(
            stdout.contains(&format!("commitment: {{\"key\":\"models/{modality}/")),
            "{stdout}"
        );
        assert!(
            stdout.contains("match: journal")
                && stdout.contains(&format!(", {modality}, last step commitment_verified")),
            "{stdout}"
        );
    }
    let submits: Vec<Value> = chain
        .entries()
        .into_iter()
        .filter(|e| e.get("submit").is_some())
        .collect();
    assert_eq!(submits.len(), 3, "{submits:?}");
    assert!(
        submits
            .iter()
            .all(|s| s["submit"] == "ok" && s["outcome"]["dispatch_error"].is_null()),
        "{submits:?}"
    );
    // No secret in anything gasguard printed or wrote (the journal).
    let written = env.written();
    assert!(
        written.contains(env.wallet.ss58("full")),
        "the journal is not where the test looks"
    );
    for s in env.wallet.secrets() {
        assert!(!written.contains(&s), "a secret is in gasguard's files");
        assert!(!printed.contains(&s), "a secret was printed");
    }
}

#[test]
fn unregistered_hotkey_is_refused_before_uploading() {
    let env = Env::new();
    let upload = Mock::upload(None);
    let chain = Mock::chain(&[env.wallet.ss58("unregistered")], &[]);
    let sub = submission("image");
    let out = full_push(&env, &upload, &chain, sub.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("not registered on subnet 34"),
        "{}",
        text(&out)
    );
    assert!(upload.entries().is_empty());
}

#[test]
fn killed_at_every_step_resumes_without_a_second_slot() {
    // One chain for all steps; a different file each time.
    let wallet_env = Env::new();
    let chain = Mock::chain(&[wallet_env.wallet.ss58("full")], &[]);
    let steps = [
        "presigned",
        "uploaded",
        "confirmed",
        "extrinsic_sent",
        "commitment_verified",
    ];
    for (i, step) in steps.into_iter().enumerate() {
        let env = Env::new();
        let upload = Mock::upload(None);
        let sub = submission("image");
        let model = sub.path().join("model.py");
        let mut code = std::fs::read_to_string(&model).expect("read");
        code.push_str(&format!("# variant {i}\n"));
        std::fs::write(&model, code).expect("write");
        let submits_before = chain
            .entries()
            .into_iter()
            .filter(|e| e["submit"] == "ok")
            .count();
        let out = full_push(
            &env,
            &upload,
            &chain,
            sub.path(),
            &[],
            &[("GASGUARD_PUSH_ABORT_AFTER", step)],
        );
        assert_eq!(
            out.status.code(),
            None,
            "{step}: not killed: {}",
            text(&out)
        );
        assert_eq!(env.journals().len(), 1);
        assert_eq!(env.journals()[0]["step"], step);
        // Without --resume: refused, nothing sent.
        let before = upload.entries().len();
        let out = full_push(&env, &upload, &chain, sub.path(), &[], &[]);
        if step != "commitment_verified" {
            assert_eq!(out.status.code(), Some(3), "{step}: {}", text(&out));
            assert!(text(&out).contains("--resume"));
            assert_eq!(upload.entries().len(), before);
        }
        let out = full_push(&env, &upload, &chain, sub.path(), &["--resume"], &[]);
        assert_eq!(out.status.code(), Some(0), "{step}: {}", text(&out));
        assert_eq!(env.journals()[0]["step"], "commitment_verified", "{step}");
        assert_eq!(
            upload.count("endpoint", "presigned"),
            1,
            "{step}: a second slot was asked for"
        );
        assert_eq!(upload.count("endpoint", "put"), 1, "{step}");
        let submits = chain
            .entries()
            .into_iter()
            .filter(|e| e["submit"] == "ok")
            .count()
            - submits_before;
        assert_eq!(
            submits, 1,
            "{step}: the commitment was sent {submits} times"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from).into_iter().flatten() {
        let target = to.join(e.path().strip_prefix(from).expect("prefix"));
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn a_chain_failure_after_upload_has_its_own_exit_and_resume_retries_only_the_chain() {
    let env = Env::new();
    let upload = Mock::upload(None);
    let chain = Mock::chain(&[env.wallet.ss58("full")], &["--refuse-submits", "1"]);
    let sub = submission("image");
    let out = full_push(&env, &upload, &chain, sub.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(
        text(&out).contains("is uploaded, but not registered on chain"),
        "{}",
        text(&out)
    );
    assert_eq!(env.journals()[0]["step"], "confirmed");
    let uploads = upload.entries().len();
    let out = full_push(&env, &upload, &chain, sub.path(), &["--resume"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        upload.entries().len(),
        uploads,
        "resume contacted the upload server"
    );
}

// ---------------------------------------------------------------- metadata

fn shared_chain(name: &str) -> Vec<u8> {
    let p = common::repo().join("../shared/chain").join(name);
    let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    if name.ends_with(".hex") {
        let text = String::from_utf8(bytes).expect("utf-8");
        hex::decode(text.trim().trim_start_matches("0x")).expect("hex")
    } else {
        bytes
    }
}

#[test]
fn real_runtime_metadata_matches_what_gasguard_encodes() {
    use gasguard::push::metadata;
    for name in [
        "bittensor-tests-metadata-v14.hex",
        "bittensor-tests-metadata-v15.hex",
        "devnet-1194374e6.scale",
    ] {
        let meta = metadata::decode(&shared_chain(name)).expect(name);
        match metadata::check(&meta) {
            Ok(rt) => {
                assert_eq!(
                    (rt.commitments_pallet, rt.set_commitment_call),
                    (18, 0),
                    "{name}"
                );
                assert!(
                    rt.extensions.iter().any(|e| e == "CheckMetadataHash"),
                    "{name}"
                );
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn already_exists_is_recovered_from_another_subnets_journal() {
    let env = Env::new();
    let upload = Mock::upload(None);
    let chain = Mock::chain(&[env.wallet.ss58("full")], &[]);
    let sub = submission("image");
    let u = upload_url(&upload);
    let out = env.push(
        "full",
        &[
            "--skip-chain",
            "--netuid",
            "35",
            "--upload-endpoint",
            &u,
            path(sub.path()),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = full_push(&env, &upload, &chain, sub.path(), &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("continuing from the journal"),
        "{}",
        text(&out)
    );
    // The second presign got the 409; nothing was uploaded twice.
    assert_eq!(upload.count("endpoint", "presigned"), 2);
    assert_eq!(upload.count("endpoint", "put"), 1);
    assert_eq!(
        chain
            .entries()
            .into_iter()
            .filter(|e| e["submit"] == "ok")
            .count(),
        1
    );
}
