//! Command-line interface: argument parsing and dispatch. The work lives in
//! the library modules; this file only wires them to the terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckOptions, SandboxMode, Verdict};
use crate::config::Modality;
use crate::pack;
use crate::policy::Policy;
use crate::report::{self, Format};
use crate::rules;
use crate::runtime::{self, Device, RuntimeOptions};

/// Exit codes: the contract with scripts and CI.
pub const EXIT_ACCEPTED: i32 = 0;
pub const EXIT_REJECTED: i32 = 1;
pub const EXIT_ERROR: i32 = 2;
/// `push`: a submission was not uploaded (the server refused, or unreachable).
pub const EXIT_UPLOAD_FAILED: i32 = 3;
/// `push`: uploaded, but not registered on chain (`--resume` retries that).
pub const EXIT_CHAIN_FAILED: i32 = 4;

#[derive(Parser, Debug)]
#[command(
    name = "gasguard",
    version,
    about = "A local, strict gate for BitMind SN34 model submissions"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options of the runtime stage, shared by `check` and `sandbox`.
#[derive(clap::Args, Debug, Clone)]
struct RuntimeArgs {
    /// Python interpreter with torch and safetensors (default: $GASGUARD_PYTHON,
    /// then ./.venv/bin/python, then python3).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Wall-clock limit for the whole run, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Address-space limit in bytes (suffixes K, M, G accepted).
    #[arg(long, default_value = "8G", value_parser = parse_bytes)]
    memory: u64,
    #[arg(long, value_enum, default_value = "cpu")]
    device: Device,
}

fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{text}` is not a size such as 8G"))
}

impl RuntimeArgs {
    fn options(&self) -> RuntimeOptions {
        RuntimeOptions {
            python: self.python.clone(),
            timeout: std::time::Duration::from_secs(self.timeout.max(1)),
            memory: self.memory,
            device: self.device,
        }
    }
}

/// What the gate checks and how, shared by `check` and `pack`.
#[derive(clap::Args, Debug, Clone)]
struct GateArgs {
    /// The slot you intend to push to; the config's modality must match.
    #[arg(long, value_enum)]
    modality: Option<Modality>,
    /// A policy file replacing the built-in rules/sn34.yaml.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Run the model in the sandbox after the static checks.
    #[arg(long, value_enum, default_value = "auto")]
    sandbox: SandboxMode,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

impl GateArgs {
    fn options(&self) -> CheckOptions {
        CheckOptions {
            modality: self.modality,
            strict: self.strict,
            sandbox: self.sandbox,
            interpreter: None,
            runtime: self.runtime.options(),
            static_checks: true,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check submissions (directories or .zip files) and report every problem.
    Check {
        /// Submission directories or ZIP archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        gate: GateArgs,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Write the report to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
    },
    /// Run the model alone (no static checks) in the sandbox: load_model and
    /// one forward pass, as the evaluator does.
    Sandbox {
        /// A submission directory or ZIP archive.
        path: PathBuf,
        #[command(flatten)]
        runtime: RuntimeArgs,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
    },
    /// Check a submission and write its canonical ZIP (the form to push):
    /// files at the top level in byte order, stored, fixed timestamps. The
    /// ZIP is written only if it passes the same check, static and runtime.
    Pack {
        /// A submission directory or ZIP archive.
        path: PathBuf,
        /// Where to write the canonical ZIP.
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        gate: GateArgs,
        /// The format of the check report (standard output).
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
    },
    /// Gate, pack, upload and register submissions on chain (what
    /// `gascli d push` does), journaled and resumable; see docs/push.md.
    Push {
        #[command(flatten)]
        push: crate::push::PushArgs,
        #[command(flatten)]
        gate: GateArgs,
    },
    /// List the rules, or print one rule's documentation.
    Rules {
        /// A rule code (P101) or name.
        code: Option<String>,
        /// Write one Markdown page per rule into DIR (how docs/rules is made).
        #[arg(long, hide = true)]
        write_docs: Option<PathBuf>,
    },
}

/// Runs the CLI and returns the process exit code.
pub fn run(args: Vec<std::ffi::OsString>) -> i32 {
    // The sandbox trampoline re-executes this binary; it is not a user command.
    if args.get(1).is_some_and(|a| a == "__sandbox-exec") {
        match args.get(2).and_then(|a| a.to_str()) {
            Some("--probe") => runtime::trampoline::probe(),
            Some(policy) => runtime::trampoline::main(policy),
            None => return EXIT_ERROR,
        }
    }
    // For benchmarks: the embedded harness, to run the same code unsandboxed.
    if args.get(1).is_some_and(|a| a == "__harness") {
        print!("{}", runtime::HARNESS);
        return EXIT_ACCEPTED;
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                EXIT_ERROR
            } else {
                EXIT_ACCEPTED
            };
        }
    };
    let result = match cli.command {
        Command::Check {
            paths,
            gate,
            format,
            output,
            color,
        } => run_check(
            paths,
            gate.policy.clone(),
            gate.options(),
            format,
            output,
            color,
        ),
        Command::Sandbox {
            path,
            runtime,
            format,
            output,
            color,
        } => {
            let options = CheckOptions {
                modality: None,
                strict: false,
                sandbox: SandboxMode::On,
                interpreter: None,
                runtime: runtime.options(),
                static_checks: false,
            };
            run_check(vec![path], None, options, format, output, color)
        }
        Command::Pack {
            path,
            output,
            gate,
            format,
            color,
        } => run_pack(
            path,
            output,
            gate.policy.clone(),
            gate.options(),
            format,
            color,
        ),
        Command::Push { push, gate } => run_push(push, gate),
        Command::Rules { code, write_docs } => run_rules(code, write_docs),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gasguard: error: {e:#}");
            EXIT_ERROR
        }
    }
}

fn run_check(
    paths: Vec<PathBuf>,
    policy: Option<PathBuf>,
    mut options: CheckOptions,
    format: Format,
    output: Option<PathBuf>,
    color: ColorChoice,
) -> anyhow::Result<i32> {
    let policy = load_policy(policy)?;
    resolve_interpreter(&mut options)?;
    let options = options;
    // Each path is checked on its own thread; one bad path does not stop the others.
    let results: Vec<anyhow::Result<check::SubmissionReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .map(|p| {
                let (policy, options) = (&policy, &options);
                std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn_scoped(scope, move || check::check_path(p, policy, options))
            })
            .collect();
        handles
            .into_iter()
            .zip(&paths)
            .map(|(h, p)| match h {
                Ok(h) => h.join().unwrap_or_else(|_| {
                    Err(anyhow::anyhow!(
                        "internal error while checking {}: gasguard panicked; please report this with the input",
                        p.display()
                    ))
                }),
                Err(e) => Err(anyhow::anyhow!("cannot start a checker thread: {e}")),
            })
            .collect()
    });
    let mut reports = Vec::new();
    let mut failed = false;
    for r in results {
        match r {
            Ok(report) => reports.push(report),
            Err(e) => {
                eprintln!("gasguard: error: {e:#}");
                failed = true;
            }
        }
    }
    emit(&reports, format, output.as_deref(), color)?;
    if failed {
        return Ok(EXIT_ERROR);
    }
    Ok(match report::overall_verdict(&reports) {
        Verdict::Accept => EXIT_ACCEPTED,
        Verdict::Reject => EXIT_REJECTED,
    })
}

fn load_policy(path: Option<PathBuf>) -> anyhow::Result<Policy> {
    match path {
        Some(path) => Policy::load(&path),
        None => Ok(Policy::builtin()),
    }
}

/// Resolved once per invocation: probing an interpreter costs a process start.
fn resolve_interpreter(options: &mut CheckOptions) -> anyhow::Result<()> {
    if options.sandbox != SandboxMode::Off {
        let resolved = runtime::check_sandbox_support()
            .and_then(|()| runtime::find_interpreter(options.runtime.python.as_deref()))
            .map_err(|u| u.0);
        if let (SandboxMode::On, Err(reason)) = (options.sandbox, &resolved) {
            anyhow::bail!("--sandbox on: {reason}");
        }
        options.interpreter = Some(resolved);
    }
    Ok(())
}

/// Renders reports to `output` or standard output.
fn emit(
    reports: &[check::SubmissionReport],
    format: Format,
    output: Option<&std::path::Path>,
    color: ColorChoice,
) -> anyhow::Result<()> {
    let use_color = output.is_none()
        && match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        };
    let text = match format {
        Format::Human => report::human::render(reports, use_color),
        Format::Json => report::json::render(reports),
        Format::Sarif => report::sarif::render(reports),
    };
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    Ok(())
}

fn run_pack(
    path: PathBuf,
    output: PathBuf,
    policy: Option<PathBuf>,
    mut options: CheckOptions,
    format: Format,
    color: ColorChoice,
) -> anyhow::Result<i32> {
    let policy = load_policy(policy)?;
    resolve_interpreter(&mut options)?;
    match pack::pack_path(&path, &output, &policy, &options)? {
        pack::PackOutcome::Rejected(report) => {
            emit(std::slice::from_ref(&report), format, None, color)?;
            eprintln!(
                "gasguard: not packed: {} was rejected; fix the errors above and pack again",
                report.path
            );
            Ok(EXIT_REJECTED)
        }
        pack::PackOutcome::Packed {
            report,
            files,
            size,
            sha256,
        } => {
            emit(std::slice::from_ref(&report), format, None, color)?;
            eprintln!(
                "gasguard: packed {} ({} files, {size} bytes, sha256 {sha256})",
                output.display(),
                files.len()
            );
            Ok(EXIT_ACCEPTED)
        }
    }
}

fn run_push(push: crate::push::PushArgs, gate: GateArgs) -> anyhow::Result<i32> {
    let policy = load_policy(gate.policy.clone())?;
    let mut options = gate.options();
    if !push.status {
        resolve_interpreter(&mut options)?;
    }
    let mut print = |r: &check::SubmissionReport| {
        let _ = emit(
            std::slice::from_ref(r),
            Format::Human,
            None,
            ColorChoice::Auto,
        );
    };
    Ok(
        match crate::push::run(&push, &policy, &options, &mut print)? {
            crate::push::Outcome::Done => EXIT_ACCEPTED,
            crate::push::Outcome::Rejected => EXIT_REJECTED,
            crate::push::Outcome::UploadFailed => EXIT_UPLOAD_FAILED,
            crate::push::Outcome::ChainFailed => EXIT_CHAIN_FAILED,
        },
    )
}

fn run_rules(code: Option<String>, write_docs: Option<PathBuf>) -> anyhow::Result<i32> {
    if let Some(dir) = write_docs {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        for rule in rules::all() {
            let path = dir.join(format!("{}.md", rule.code));
            std::fs::write(&path, rule.docs_page())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let index = dir.join("README.md");
        std::fs::write(&index, rules_index())
            .with_context(|| format!("cannot write {}", index.display()))?;
        return Ok(EXIT_ACCEPTED);
    }
    match code {
        None => {
            print!("{}", rules_table());
            Ok(EXIT_ACCEPTED)
        }
        Some(code) => match rules::find(&code) {
            Some(rule) => {
                print!("{}", rule.docs_page());
                Ok(EXIT_ACCEPTED)
            }
            None => anyhow::bail!("no rule `{code}`; `gasguard rules` lists them all"),
        },
    }
}

fn rules_table() -> String {
    let mut out = String::new();
    for r in rules::all() {
        out.push_str(&format!(
            "{:<5} {:<8} {:<28} {}\n",
            r.code,
            r.severity.as_str(),
            r.name,
            r.summary
        ));
    }
    out
}

/// The generated index page, `docs/rules/README.md`.
pub fn rules_index() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated by `gasguard rules --write-docs docs/rules` from the rule declarations in `src/rules/`; \
         do not edit by hand (a test fails when these pages drift).\n\n| code | name | severity | summary |\n| --- | --- | --- | --- |\n",
    );
    for r in rules::all() {
        out.push_str(&format!(
            "| [{0}]({0}.md) | {1} | {2} | {3} |\n",
            r.code,
            r.name,
            r.severity.as_str(),
            r.summary
        ));
    }
    out
}
