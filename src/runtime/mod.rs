//! The runtime stage: load the model and run one forward pass exactly as the
//! SN34 evaluator does, in a sandboxed child process, and report both
//! whether the model works and whether it tried anything it must not.
//!
//! The parent (this module) materialises the submission, builds the sandbox
//! policy as data, and starts `gasguard __sandbox-exec` (see
//! `trampoline.rs`), which applies it. The harness's result is untrusted
//! (model code shares its process): functional findings are advisory;
//! security findings come from the kernel (exit status, signals) and from
//! what the parent observes.

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::config::{ConfigFacts, Modality};
use crate::diagnostic::Diagnostic;
use crate::rules::runtime as rules;
use crate::submission::layout::Layout;
use crate::submission::{EntryKind, Submission, names};

pub mod landlock;
pub mod sandbox_policy;
pub mod seccomp;
pub mod trampoline;

use sandbox_policy::{DEVICES, ResourceLimits, SYSTEM_READ_EXEC, SYSTEM_READ_ONLY, SandboxPolicy};

/// The harness, embedded: never read from disk at run time.
pub const HARNESS: &str = include_str!("harness.py");
/// Checks that an interpreter is usable (torch and safetensors are
/// installed for it) and reports where it lives. It locates the packages
/// without importing them: importing torch costs seconds, and the harness
/// imports it in the sandbox anyway (a failure there is reported as R013).
const PROBE: &str = "import importlib.metadata as md, importlib.util as u, json, os, sys\nmissing = [m for m in ('torch', 'safetensors') if u.find_spec(m) is None]\nif missing:\n    sys.exit('missing: ' + ', '.join(missing))\nprint(json.dumps({'real': os.path.realpath(sys.executable), 'prefix': sys.prefix, 'base_prefix': sys.base_prefix, 'paths': [p for p in sys.path if p], 'version': sys.version.split()[0], 'torch': md.version('torch')}))";
/// The uid the child runs as when gasguard runs as root: one no other
/// process uses, so the process cap counts the sandbox alone.
const SANDBOX_UID: u32 = 64_434;
const CAPTURE_LIMIT: usize = 64 * 1024;
const RESULT_LIMIT: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Cpu,
    Cuda,
}

#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    pub python: Option<PathBuf>,
    pub timeout: Duration,
    pub memory: u64,
    pub device: Device,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            python: None,
            timeout: Duration::from_secs(600),
            memory: 8 << 30,
            device: Device::Cpu,
        }
    }
}

/// A usable interpreter: it imports torch and safetensors.
#[derive(Clone, Debug, Deserialize)]
pub struct Interpreter {
    #[serde(skip)]
    pub path: PathBuf,
    pub real: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    pub paths: Vec<PathBuf>,
    pub version: String,
    pub torch: String,
}

/// Why the runtime stage cannot run at all (exit 2 under `--sandbox on`).
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Finds the interpreter: `--python`, else `GASGUARD_PYTHON`, else
/// `./.venv/bin/python`, else `python3`.
pub fn find_interpreter(explicit: Option<&Path>) -> Result<Interpreter, Unavailable> {
    let (candidates, named): (Vec<PathBuf>, bool) =
        match (explicit, std::env::var_os("GASGUARD_PYTHON")) {
            (Some(p), _) => (vec![p.to_path_buf()], true),
            (None, Some(p)) if !p.is_empty() => (vec![PathBuf::from(p)], true),
            _ => (
                vec![PathBuf::from(".venv/bin/python"), PathBuf::from("python3")],
                false,
            ),
        };
    let mut reasons = Vec::new();
    for candidate in candidates {
        match probe_interpreter(&candidate) {
            Ok(i) => return Ok(i),
            Err(e) => reasons.push(format!("{}: {e}", candidate.display())),
        }
    }
    let how = if named {
        ""
    } else {
        " (tried ./.venv/bin/python and python3; set --python or GASGUARD_PYTHON)"
    };
    Err(Unavailable(format!(
        "no usable Python interpreter{how}: {}",
        reasons.join("; ")
    )))
}

fn probe_interpreter(path: &Path) -> Result<Interpreter, String> {
    let resolved = if path.components().count() > 1 {
        std::fs::canonicalize(path)
            .map(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
            .map_err(|e| e.to_string())?
    } else {
        path.to_path_buf()
    };
    let output = Command::new(&resolved)
        .args(["-I", "-B", "-c", PROBE])
        .stdin(Stdio::null())
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let last = err.lines().last().unwrap_or("it failed");
        return Err(format!(
            "torch and safetensors are not both installed for it ({last})"
        ));
    }
    let mut interp: Interpreter = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("unexpected probe output: {e}"))?;
    // Run it by an absolute path: the sandbox has no PATH search.
    interp.path = if resolved.is_absolute() {
        resolved
    } else {
        interp.real.clone()
    };
    Ok(interp)
}

/// Whether this machine enforces every protection the sandbox applies.
pub fn check_sandbox_support() -> Result<(), Unavailable> {
    let exe = std::env::current_exe()
        .map_err(|e| Unavailable(format!("cannot find the gasguard binary: {e}")))?;
    let out = Command::new(exe)
        .args(["__sandbox-exec", "--probe"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Unavailable(format!("cannot start the sandbox probe: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Unavailable(format!(
            "the sandbox cannot be enforced on this machine: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .trim_start_matches("gasguard-sandbox: ")
        )))
    }
}

/// What the harness reports (untrusted: every field optional and bounded).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct HarnessResult {
    pub stage: String,
    pub ok: bool,
    pub error: Option<String>,
    pub error_type: Option<String>,
    pub error_line: Option<u64>,
    pub load_ms: Option<f64>,
    pub forward_ms: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub parameters: Option<u64>,
    pub dtype: Option<String>,
    pub output_shape: Option<Vec<i64>>,
    pub finite: Option<bool>,
    pub deterministic: Option<bool>,
    pub batch_independent: Option<bool>,
    pub missing: Vec<String>,
    pub unexpected: Vec<String>,
    pub shape_mismatch: Vec<String>,
    pub fallback_call: bool,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Event {
    pub kind: String,
    pub detail: String,
}

/// The runtime stage's facts for the JSON report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuntimeFacts {
    pub interpreter: String,
    pub torch: String,
    pub device: String,
    pub exit: String,
    pub wall_ms: f64,
    pub result: Option<HarnessResult>,
}

/// A private folder: `submission/` (read-only to the child) and `scratch/`
/// (its HOME and TMPDIR), removed when dropped.
struct Workspace {
    root: PathBuf,
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn workspace(
    sub: &Submission,
    layout: &Layout,
    drop_to: Option<(u32, u32)>,
) -> Result<Workspace, String> {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let root = std::env::temp_dir().join(format!("gasguard-run-{}-{n}", std::process::id()));
    std::fs::create_dir(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let ws = Workspace { root };
    let set_mode = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())
    };
    set_mode(&ws.root, 0o711)?;
    let submission = ws.root.join("submission");
    let scratch = ws.root.join("scratch");
    for dir in [&submission, &scratch] {
        std::fs::create_dir(dir).map_err(|e| e.to_string())?;
    }
    set_mode(&submission, 0o755)?;
    set_mode(&scratch, 0o700)?;
    if let Some((uid, gid)) = drop_to {
        std::os::unix::fs::chown(&scratch, Some(uid), Some(gid))
            .map_err(|e| format!("cannot hand the scratch folder to the sandbox user: {e}"))?;
    }
    for entry in &sub.entries {
        let Some(rel) = entry.name.strip_prefix(layout.root.as_str()) else {
            continue;
        };
        if rel.is_empty()
            || names::unsafe_name_reason(rel).is_some()
            || rel.starts_with("__MACOSX/")
        {
            continue;
        }
        let dest = submission.join(rel);
        match entry.kind {
            EntryKind::Dir => {
                std::fs::create_dir_all(&dest).map_err(|e| e.to_string())?;
                set_mode(&dest, 0o755)?;
            }
            EntryKind::File => {
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                    set_mode(parent, 0o755)?;
                }
                let mut reader = sub
                    .reader(entry)
                    .map_err(|e| format!("cannot read {}: {e}", entry.name))?;
                let mut out = std::fs::File::create(&dest).map_err(|e| e.to_string())?;
                std::io::copy(&mut reader, &mut out)
                    .map_err(|e| format!("cannot copy {}: {e}", entry.name))?;
                set_mode(&dest, 0o644)?;
            }
            _ => {}
        }
    }
    Ok(ws)
}

/// Groups the folders an unprivileged user cannot reach under their
/// topmost closed ancestor: `[(/root, [/root/.pyenv/versions/3.11.7, ...])]`.
fn closed_ancestors(paths: &[PathBuf]) -> Vec<(PathBuf, Vec<PathBuf>)> {
    use std::os::unix::fs::MetadataExt;
    let mut out: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    let mut canonical: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    canonical.sort();
    canonical.dedup();
    // Keep outermost folders only: a nested one comes along with its parent.
    let outermost: Vec<PathBuf> = canonical
        .iter()
        .filter(|p| !canonical.iter().any(|q| q != *p && p.starts_with(q)))
        .cloned()
        .collect();
    for path in outermost {
        let closed = path
            .ancestors()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .find(|dir| std::fs::metadata(dir).is_ok_and(|m| m.mode() & 0o001 == 0))
            .map(Path::to_path_buf);
        if let Some(closed) = closed {
            match out.iter_mut().find(|(c, _)| *c == closed) {
                Some((_, list)) => list.push(path),
                None => out.push((closed, vec![path])),
            }
        }
    }
    out
}

/// Tasks (processes and threads) of `uid` now running: the process cap
/// counts them all.
fn tasks_of(uid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|u| u.parse::<u32>().ok())
                == Some(uid)
        })
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Threads:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(1)
        })
        .sum()
}

/// Reads up to `limit` bytes, then drains the rest (so the writer never
/// blocks), reporting how much was dropped.
fn capture(mut reader: impl Read + Send + 'static, limit: usize) -> mpsc::Receiver<(Vec<u8>, u64)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut dropped = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = limit.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += (n - room) as u64;
                }
            }
        }
        let _ = tx.send((kept, dropped));
    });
    rx
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 fills two valid descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors are fresh and owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Runs the submission in the sandbox and returns its diagnostics.
pub fn run(
    sub: &Submission,
    layout: &Layout,
    facts: &ConfigFacts,
    interp: &Interpreter,
    options: &RuntimeOptions,
) -> Result<(Vec<Diagnostic>, RuntimeFacts), Unavailable> {
    let Some(modality) = facts.modality else {
        return Err(Unavailable(
            "the config does not name a valid modality".into(),
        ));
    };
    let Some(input_shape) = facts.input_shape.clone() else {
        return Err(Unavailable(
            "the config does not determine the input shape".into(),
        ));
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    // As root, run as an unprivileged user so that file permissions and the
    // process cap apply (the kernel never caps uid 0's processes). An
    // interpreter under a folder closed to that user (/root) is exposed
    // alone through a private mount namespace (see `trampoline::expose`).
    let drop_to = root.then_some((SANDBOX_UID, SANDBOX_UID));
    let ws = workspace(sub, layout, drop_to).map_err(Unavailable)?;
    let submission = ws.root.join("submission");
    let scratch = ws.root.join("scratch");
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let mut model_kwargs = facts.model_section.clone();
    model_kwargs
        .entry("num_classes")
        .or_insert(serde_json::json!(facts.num_classes.unwrap_or(2)));
    let config = serde_json::json!({
        "submission": submission,
        "weights": submission.join(&facts.weights_file),
        "model_kwargs": model_kwargs,
        "modality": modality.as_str(),
        "input_shape": input_shape,
        "dtype": facts.dtype,
        "num_classes": facts.num_classes.unwrap_or(2),
        "device": match options.device { Device::Cpu => "cpu", Device::Cuda => "cuda" },
        "scratch": scratch,
        "threads": threads,
    });

    let mut read_exec: Vec<PathBuf> = SYSTEM_READ_EXEC.iter().map(PathBuf::from).collect();
    read_exec.extend([interp.prefix.clone(), interp.base_prefix.clone()]);
    if let Some(dir) = interp.real.parent() {
        read_exec.push(dir.to_path_buf());
    }
    read_exec.extend(interp.paths.iter().filter(|p| p.is_dir()).cloned());
    let mut read_only: Vec<PathBuf> = SYSTEM_READ_ONLY.iter().map(PathBuf::from).collect();
    read_only.push(submission.clone());
    let mut devices: Vec<PathBuf> = DEVICES.iter().map(PathBuf::from).collect();
    if options.device == Device::Cuda {
        read_only.extend(["/sys", "/usr/share/nvidia", "/etc/OpenCL"].map(PathBuf::from));
        devices.extend(
            std::fs::read_dir("/dev")
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("nvidia"))
                }),
        );
    }
    // The cap counts every task (threads too) of the user.
    let processes = match drop_to {
        Some((uid, _)) => tasks_of(uid) + 256,
        None => tasks_of(unsafe { libc::getuid() }) + 256,
    };
    let expose = if drop_to.is_some() {
        closed_ancestors(&read_exec)
    } else {
        Vec::new()
    };
    let stage = ws.root.join("stage");
    std::fs::create_dir(&stage)
        .map_err(|e| Unavailable(format!("cannot create {}: {e}", stage.display())))?;
    let cuda_visible = if options.device == Device::Cuda {
        std::env::var("CUDA_VISIBLE_DEVICES").unwrap_or_default()
    } else {
        String::new()
    };
    let scratch_s = scratch.to_string_lossy().into_owned();
    let threads_s = threads.to_string();
    let mut env: Vec<(String, String)> = [
        ("PATH", "/usr/bin:/bin"),
        ("HOME", scratch_s.as_str()),
        ("TMPDIR", scratch_s.as_str()),
        ("XDG_CACHE_HOME", scratch_s.as_str()),
        ("TORCH_HOME", scratch_s.as_str()),
        ("HF_HOME", scratch_s.as_str()),
        ("LANG", "C.UTF-8"),
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_DATASETS_OFFLINE", "1"),
        ("OMP_NUM_THREADS", threads_s.as_str()),
        ("MKL_NUM_THREADS", threads_s.as_str()),
        ("OPENBLAS_NUM_THREADS", threads_s.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.push(("CUDA_VISIBLE_DEVICES".into(), cuda_visible));
    let policy = SandboxPolicy {
        read_exec,
        read_only,
        read_write: vec![scratch.clone()],
        devices,
        limits: ResourceLimits {
            address_space: if options.device == Device::Cuda {
                u64::MAX
            } else {
                options.memory
            },
            cpu_seconds: options
                .timeout
                .as_secs()
                .saturating_mul(threads as u64)
                .saturating_add(5),
            file_size: 1 << 30,
            open_files: 1024,
            processes,
        },
        drop_to,
        expose,
        stage,
        program: interp.path.clone(),
        args: vec![
            "-I".into(),
            "-B".into(),
            "-c".into(),
            HARNESS.into(),
            config.to_string(),
        ],
        env,
        cwd: scratch.clone(),
        cuda: options.device == Device::Cuda,
    };

    let exe = std::env::current_exe()
        .map_err(|e| Unavailable(format!("cannot find the gasguard binary: {e}")))?;
    let (result_read, result_write) = pipe().map_err(Unavailable)?;
    let write_fd = result_write.as_raw_fd();
    let mut command = Command::new(exe);
    command
        .arg("__sandbox-exec")
        .arg(trampoline::encode(&policy))
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: only async-signal-safe calls (dup2, fcntl, prctl) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            if write_fd == 3 {
                let flags = libc::fcntl(3, libc::F_GETFD);
                libc::fcntl(3, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
            } else if libc::dup2(write_fd, 3) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| Unavailable(format!("cannot start the sandbox: {e}")))?;
    drop(result_write);
    let stdout = child.stdout.take().map(|s| capture(s, CAPTURE_LIMIT));
    let stderr = child.stderr.take().map(|s| capture(s, CAPTURE_LIMIT));
    let result_rx = capture(std::fs::File::from(result_read), RESULT_LIMIT + 1);

    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() >= options.timeout => {
                timed_out = true;
                let _ = child.kill(); // the death signal takes the namespace with it
                match child.wait() {
                    Ok(s) => break s,
                    Err(e) => return Err(Unavailable(format!("lost the sandbox process: {e}"))),
                }
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(Unavailable(format!("lost the sandbox process: {e}"))),
        }
    };
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    // Every writer is dead with the namespace; a short grace covers the drain.
    let grace = Duration::from_secs(5);
    let (_stdout_kept, out_dropped) = stdout
        .and_then(|r| r.recv_timeout(grace).ok())
        .unwrap_or_default();
    let (err, err_dropped) = stderr
        .and_then(|r| r.recv_timeout(grace).ok())
        .unwrap_or_default();
    let (result_bytes, _) = result_rx.recv_timeout(grace).unwrap_or_default();
    let code = status.code();
    if code == Some(trampoline::EXIT_CANNOT_ENFORCE) || code == Some(trampoline::EXIT_EXEC_FAILED) {
        let text = String::from_utf8_lossy(&err);
        let line = text
            .lines()
            .find(|l| l.starts_with("gasguard-sandbox:"))
            .unwrap_or("the sandbox failed to start");
        return Err(Unavailable(
            line.trim_start_matches("gasguard-sandbox: ").to_string(),
        ));
    }
    let signal = code
        .filter(|c| *c > trampoline::EXIT_SIGNAL_BASE)
        .map(|c| c - trampoline::EXIT_SIGNAL_BASE);
    let result: Option<HarnessResult> = if result_bytes.len() <= RESULT_LIMIT {
        serde_json::from_slice(&result_bytes).ok()
    } else {
        None
    };
    let mut facts_out = RuntimeFacts {
        interpreter: interp.path.display().to_string(),
        torch: interp.torch.clone(),
        device: format!("{:?}", options.device).to_lowercase(),
        exit: match (timed_out, signal, code) {
            (true, _, _) => "timeout".into(),
            (_, Some(s), _) => format!("signal {s}"),
            (_, _, Some(c)) => format!("exit {c}"),
            _ => "unknown".into(),
        },
        wall_ms,
        result: result.clone(),
    };
    let tail = |bytes: &[u8]| {
        let text = crate::report::human::sanitize(&String::from_utf8_lossy(bytes));
        let start = text.len().saturating_sub(1500);
        let start = (start..text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].trim().to_string()
    };
    let mut diags = interpret(
        result.as_ref(),
        timed_out,
        signal,
        code,
        facts,
        modality,
        options,
        &tail(&err),
    );
    if out_dropped + err_dropped > 0 {
        diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                format!(
                    "the model printed more than {} KiB; {} bytes were discarded",
                    CAPTURE_LIMIT / 1024,
                    out_dropped + err_dropped
                ),
            )
            .help("remove prints from model.py"),
        );
    }
    facts_out.result = result;
    Ok((diags, facts_out))
}

#[allow(clippy::too_many_arguments)]
fn interpret(
    result: Option<&HarnessResult>,
    timed_out: bool,
    signal: Option<i32>,
    code: Option<i32>,
    facts: &ConfigFacts,
    modality: Modality,
    options: &RuntimeOptions,
    stderr_tail: &str,
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let model = "model.py";
    if timed_out {
        diags.push(
            Diagnostic::new(
                &rules::TIMEOUT,
                format!(
                    "the run did not finish within {} s",
                    options.timeout.as_secs()
                ),
            )
            .help("make load_model and forward fast; raise --timeout for very large models"),
        );
    }
    match signal {
        Some(libc::SIGSYS) => diags.push(
            Diagnostic::new(
                &rules::SANDBOX_VIOLATION,
                format!(
                    "the model was killed by seccomp for a forbidden system call (one of: {})",
                    seccomp::killed_call_names().join(", ")
                ),
            )
            .help("models never need these calls; remove the code that makes them"),
        ),
        Some(libc::SIGXCPU) => diags.push(
            Diagnostic::new(&rules::RESOURCE_LIMIT, "the run used up its CPU time")
                .help("make the model cheaper"),
        ),
        Some(libc::SIGXFSZ) => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                "the model wrote a file larger than 1 GiB",
            )
            .help("models must not write files"),
        ),
        Some(libc::SIGKILL) if !timed_out => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                "the model was killed (out of memory or a limit)",
            )
            .help(format!(
                "peak memory must stay under --memory ({} GiB)",
                options.memory >> 30
            )),
        ),
        Some(_)
            if !timed_out
                && [
                    "bad_alloc",
                    "MemoryError",
                    "Cannot allocate memory",
                    "out of memory",
                ]
                .iter()
                .any(|m| stderr_tail.contains(m)) =>
        {
            diags.push(
                Diagnostic::new(
                    &rules::RESOURCE_LIMIT,
                    "the interpreter ran out of memory and crashed",
                )
                .help(format!(
                    "peak memory must stay under --memory ({} GiB)",
                    options.memory >> 30
                )),
            )
        }
        Some(s) if !timed_out => diags.push(
            Diagnostic::new(
                &rules::NO_RESULT,
                format!("the interpreter died with signal {s}"),
            )
            .help(format!("the last output was: {stderr_tail}")),
        ),
        _ => {}
    }
    let Some(r) = result else {
        if !timed_out && signal.is_none() {
            diags.push(
                Diagnostic::new(&rules::NO_RESULT, format!("the run ended ({}) without a result", code.map_or("no exit code".into(), |c| format!("exit {c}"))))
                    .help(format!("model code exited the process or corrupted the harness; the last output was: {stderr_tail}")),
            );
        }
        return diags;
    };
    let memory = r.error_type.as_deref() == Some("MemoryError");
    let error = r.error.clone().unwrap_or_default();
    let at_line = |d: Diagnostic| match r.error_line {
        Some(l) => d
            .in_file(model)
            .help(format!("raised at model.py line {l}")),
        None => d,
    };
    match (r.stage.as_str(), r.ok) {
        (_, true) | ("done", _) => {}
        (_, _) if memory => diags.push(
            Diagnostic::new(
                &rules::RESOURCE_LIMIT,
                format!("out of memory ({} stage): {error}", r.stage),
            )
            .help(format!(
                "peak memory must stay under --memory ({} GiB)",
                options.memory >> 30
            )),
        ),
        ("import-libraries", _) => diags.push(
            Diagnostic::new(
                &rules::NO_RESULT,
                format!("the interpreter cannot import torch inside the sandbox: {error}"),
            )
            .help("check the interpreter with --python"),
        ),
        ("import-model", _) => diags.push(at_line(Diagnostic::new(
            &rules::IMPORT_FAILED,
            format!("importing model.py raised {error}"),
        ))),
        ("load", _) => diags.push(at_line(Diagnostic::new(
            &rules::LOAD_FAILED,
            format!("load_model failed: {error}"),
        ))),
        ("forward", _) => diags.push(at_line(Diagnostic::new(
            &rules::FORWARD_FAILED,
            format!(
                "the forward pass on a {} input raised {error}",
                shape_text(facts)
            ),
        ))),
        (stage, _) => diags.push(Diagnostic::new(
            &rules::NO_RESULT,
            format!("the run stopped at stage `{stage}`"),
        )),
    }
    for (names, what) in [
        (
            &r.missing,
            "are not in the weights file and keep their random initialisation",
        ),
        (
            &r.unexpected,
            "are in the weights file but not in the model",
        ),
        (
            &r.shape_mismatch,
            "have a different shape in the weights file",
        ),
    ] {
        if !names.is_empty() {
            let shown: Vec<_> = names
                .iter()
                .take(10)
                .map(|n| crate::report::human::sanitize(n))
                .collect();
            diags.push(
                Diagnostic::new(&rules::WEIGHTS_MISMATCH, format!("{} parameter(s) {what}: {}{}", names.len(), shown.join(", "), if names.len() > 10 { ", ..." } else { "" }))
                    .help("save the exact state_dict of the model load_model builds; load with strict=True"),
            );
        }
    }
    if r.ok {
        if let Some(shape) = &r.output_shape {
            let n = facts.num_classes.unwrap_or(2);
            let fits = shape.len() == 2
                && shape[0] == 2
                && (shape[1] == n || [1, 2, 3].contains(&shape[1]));
            if !fits {
                diags.push(
                    Diagnostic::new(
                        &rules::OUTPUT_SHAPE,
                        format!(
                            "the output has shape {shape:?}; expected [2, {n}] for a batch of 2"
                        ),
                    )
                    .help("end forward with a linear head of num_classes outputs"),
                );
            }
        }
        if r.finite == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::NON_FINITE_OUTPUT,
                    "the output contains NaN or infinity",
                )
                .help("check normalisation and the dtype"),
            );
        }
        if r.deterministic == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::NONDETERMINISTIC,
                    "the same input gave different outputs",
                )
                .help("call model.eval() and remove randomness from forward"),
            );
        }
        if r.batch_independent == Some(false) {
            diags.push(
                Diagnostic::new(
                    &rules::BATCH_DEPENDENT,
                    "a sample's output changed with the rest of its batch",
                )
                .help("keep batch-norm in eval mode; do not normalise across the batch"),
            );
        }
        let mut summary = format!(
            "loaded in {:.0} ms; forward {:.1} ms for a batch of 2 ({} {}); peak {:.0} MiB; {} parameters; {}",
            r.load_ms.unwrap_or(0.0),
            r.forward_ms.unwrap_or(0.0),
            modality.as_str(),
            shape_text(facts),
            r.peak_rss_mb.unwrap_or(0.0),
            r.parameters.unwrap_or(0),
            r.dtype.as_deref().unwrap_or("?")
        );
        if r.fallback_call {
            summary.push_str("; load_model did not accept the config's keywords: the evaluator's fallback call was used");
        }
        diags.push(Diagnostic::new(&rules::RUNTIME_SUMMARY, summary));
    }
    let mut seen = std::collections::HashSet::new();
    for e in r.events.iter().take(20) {
        let detail = crate::report::human::sanitize(&e.detail);
        if seen.insert((e.kind.clone(), detail.clone())) {
            diags.push(
                Diagnostic::new(
                    &rules::SANDBOX_VIOLATION,
                    format!("the model attempted {}: {detail}", e.kind),
                )
                .help(
                    "the evaluator runs without network, processes or writable files; remove this",
                ),
            );
        }
    }
    diags
}

fn shape_text(facts: &ConfigFacts) -> String {
    facts.input_shape.as_ref().map_or("?".into(), |s| {
        let mut s = s.clone();
        if let Some(b) = s.first_mut() {
            *b = 2;
        }
        format!("{s:?}")
    })
}
