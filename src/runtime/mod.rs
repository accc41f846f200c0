//! The runtime stage: load the model and run one forward pass exactly as the
//! SN34 evaluator does, in a sandboxed child process, and report both
//! whether the model works and whether it tried anything it must not.
//!
//! One concern a file: `interpreter` finds Python; `workspace` materialises
//! the submission on the host; `profile` builds the sandbox policy as data
//! (CPU or CUDA); `cgroup` bounds the run as a whole; `launch` starts
//! `gasguard __sandbox-exec` and collects what comes back; `trampoline`
//! (namespaces, ids), `supervisor` (PID 1: reaping, observing; the
//! harness's stage marks in `stage_marks`), `mounts`,
//! `landlock`, `seccomp` and `notify` apply the policy; `observe` judges
//! observed calls; `verdict` turns it all into diagnostics.
//!
//! Who says what: exit status, signals, deaths, observed calls, memory and
//! time come from the kernel, the supervisor and this process; the
//! harness's result comes from the model's own process (the model can
//! forge it), so functional findings are labelled as its word and no
//! security verdict depends on it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::ConfigFacts;
use crate::diagnostic::Diagnostic;
use crate::submission::Submission;
use crate::submission::layout::Layout;

pub mod cgroup;
pub mod interpreter;
pub mod landlock;
pub mod launch;
pub mod mounts;
pub mod notify;
pub mod observe;
pub mod profile;
pub mod sandbox_policy;
pub mod seccomp;
pub mod stage_marks;
pub mod supervisor;
pub mod trampoline;
pub mod verdict;
pub mod workspace;

pub use interpreter::{Interpreter, find_interpreter};

/// The harness, embedded: never read from disk at run time.
pub const HARNESS: &str = include_str!("harness.py");

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
    /// The whole run's memory (every process, swap included).
    pub memory: u64,
    pub device: Device,
    /// The private scratch tmpfs's size (its memory counts in `memory`).
    pub scratch_size: u64,
    /// Run even where no cgroup can bound the run's total memory.
    pub allow_unlimited_memory: bool,
}

/// The default wall-clock limit: loading a large model (a few GB of
/// safetensors) and three forward passes of a batch of 2 on a CPU fit
/// easily; a model that needs longer will not fit the evaluator's budget.
pub const DEFAULT_TIMEOUT_S: u64 = 600;
pub const DEFAULT_SCRATCH: u64 = 2 << 30;

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            python: None,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_S),
            memory: 8 << 30,
            device: Device::Cpu,
            scratch_size: DEFAULT_SCRATCH,
            allow_unlimited_memory: false,
        }
    }
}

/// Why the runtime stage cannot run at all (exit 2 under `--sandbox on`).
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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

/// What the harness reports: written by the model's own process, so it is
/// the model's word (every field optional and bounded; functional findings
/// only).
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
    /// The in-process audit hook's events: hints for messages only.
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
    /// How the model's main process ended (the kernel's word).
    pub exit: String,
    pub wall_ms: f64,
    /// gasguard's spawn to the interpreter running the harness's first line.
    pub setup_ms: Option<f64>,
    /// Facts from outside the model's process: the supervisor's record
    /// (observed calls, deaths, stage marks' arrival) and the cgroup's.
    pub observed: Vec<observe::Fact>,
    pub cgroup: Option<cgroup::CgroupUsage>,
    /// What the policy relaxed (`--device cuda`), each named.
    pub relaxed: Vec<String>,
    /// Where `result` comes from.
    pub result_source: &'static str,
    pub result: Option<HarnessResult>,
}

/// `result_source` for every report.
pub const RESULT_SOURCE: &str =
    "harness inside the model's process (the model's word: functional findings only)";

/// Runs the submission in the sandbox and returns its diagnostics.
pub fn run(
    sub: &Submission,
    layout: &Layout,
    facts: &ConfigFacts,
    interp: &Interpreter,
    options: &RuntimeOptions,
) -> Result<(Vec<Diagnostic>, RuntimeFacts), Unavailable> {
    let mut plan = profile::plan(sub, layout, facts, interp, options)?;
    let outcome = launch::launch(&mut plan, options)?;
    let cleanup = plan.workspace.remove();
    if let Some(signal) = outcome.interrupted {
        if let Err(e) = &cleanup {
            eprintln!("gasguard: {e}");
        }
        launch::reraise(signal);
    }
    let mut facts_out = RuntimeFacts {
        interpreter: interp.path.display().to_string(),
        torch: interp.torch.clone(),
        device: format!("{:?}", options.device).to_lowercase(),
        exit: outcome.exit_text(),
        wall_ms: outcome.wall_ms,
        setup_ms: outcome.setup_ms,
        observed: outcome.facts.clone(),
        cgroup: outcome.cgroup.clone(),
        relaxed: plan.relaxed.clone(),
        result_source: RESULT_SOURCE,
        result: None,
    };
    let mut diags = verdict::interpret(&outcome, facts, plan.modality, options);
    diags.extend(verdict::containment(
        &outcome,
        plan.unbounded_memory.as_deref(),
        cleanup.err().as_deref(),
        options,
    ));
    facts_out.result = outcome.result;
    Ok((diags, facts_out))
}
