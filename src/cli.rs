//! Command-line interface: argument parsing and dispatch. The work lives in
//! the library modules; this file only wires them to the terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckOptions, SandboxMode, Verdict};
use crate::config::Modality;
use crate::pack;
use crate::policy::Policy;
use crate::report::{self, Format};
use crate::rules;
use crate::runtime::{self, Device, RuntimeOptions};
use crate::settings::Settings;

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
    /// Wall-clock limit for the whole run, in seconds (loading plus the
    /// forward passes; 600 fits a large model on a CPU).
    #[arg(long, default_value_t = runtime::DEFAULT_TIMEOUT_S)]
    timeout: u64,
    /// Memory limit for the whole run: every process together, swap and
    /// scratch files included (suffixes K, M, G accepted).
    #[arg(long, default_value = "8G", value_parser = parse_bytes)]
    memory: u64,
    #[arg(long, value_enum, default_value = "cpu")]
    device: Device,
    /// Size of the private scratch (a tmpfs: HOME and TMPDIR of the run).
    #[arg(long, default_value = "2G", value_parser = parse_bytes)]
    scratch_size: u64,
    /// Run even where no cgroup can bound the run's total memory (the
    /// report says so); without it, `--sandbox on` refuses on such a machine.
    #[arg(long)]
    allow_unlimited_memory: bool,
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
            scratch_size: self.scratch_size,
            allow_unlimited_memory: self.allow_unlimited_memory,
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
    /// Run the model in the sandbox after the static checks [default: auto].
    #[arg(long, value_enum)]
    sandbox: Option<SandboxMode>,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Treat warnings as errors.
    #[arg(long, overrides_with = "no_strict")]
    strict: bool,
    /// Do not treat warnings as errors, whatever the settings file says.
    #[arg(long, overrides_with = "strict")]
    no_strict: bool,
    #[command(flatten)]
    settings: SettingsArgs,
    /// A policy plugin (WebAssembly component) to run after the static
    /// checks; repeatable; added to the settings' `plugins` (docs/plugins.md).
    #[arg(long = "plugin", value_name = "FILE.wasm")]
    plugins: Vec<PathBuf>,
}

/// Where the per-repository settings come from.
#[derive(clap::Args, Debug, Clone)]
struct SettingsArgs {
    /// Read settings from FILE (gasguard.toml, or a pyproject.toml with
    /// [tool.gasguard]) instead of searching for one above the checked path.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore every settings file.
    #[arg(long)]
    no_config: bool,
}

impl GateArgs {
    /// The options for one invocation: the command line over the settings
    /// file over the defaults.
    fn options(&self, settings: Option<&Settings>) -> CheckOptions {
        let strict = if self.strict || self.no_strict {
            self.strict
        } else {
            settings.and_then(|s| s.strict).unwrap_or(false)
        };
        CheckOptions {
            modality: self.modality,
            strict,
            sandbox: self
                .sandbox
                .or(settings.and_then(|s| s.sandbox))
                .unwrap_or(SandboxMode::Auto),
            interpreter: None,
            runtime: self.runtime.options(),
            static_checks: true,
            ignores: settings.map(|s| s.ignores.clone()).unwrap_or_default(),
            plugins: Default::default(),
        }
    }

    /// The settings' pinned plugins, then those given with `--plugin`.
    fn load_plugins(&self, settings: Option<&Settings>) -> anyhow::Result<crate::plugins::Plugins> {
        crate::plugins::Plugins::load(&plugin_specs(&self.plugins, settings))
    }

    fn policy(&self, settings: Option<&Settings>) -> Option<PathBuf> {
        self.policy
            .clone()
            .or_else(|| settings.and_then(|s| s.policy.clone()))
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check submissions (directories or .zip files) and report every problem.
    Check {
        /// Submission directories or ZIP archives (default: the submissions
        /// listed in gasguard.toml or [tool.gasguard]).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        gate: GateArgs,
        /// Report format [default: human].
        #[arg(long, value_enum)]
        format: Option<Format>,
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
        /// The format of the check report (standard output) [default: human].
        #[arg(long, value_enum)]
        format: Option<Format>,
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
        /// Also list (or look up) the rules of this plugin; repeatable.
        #[arg(long = "plugin", value_name = "FILE.wasm")]
        plugins: Vec<PathBuf>,
    },
    /// Create a new submission that passes `gasguard check` as created:
    /// model.py, model_config.yaml and seeded weights; prints the command
    /// that writes trained weights from a state_dict.
    Init {
        /// The folder to create (it must not exist, or be empty).
        dir: PathBuf,
        #[arg(long, value_enum)]
        modality: Modality,
    },
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages into DIR (how docs/man is made).
    #[command(hide = true)]
    Man { dir: PathBuf },
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
        } => (|| {
            let settings = Settings::resolve(
                gate.settings.config.as_deref(),
                gate.settings.no_config,
                &paths,
            )?;
            let settings = settings.as_ref();
            let mut options = gate.options(settings);
            let paths = crate::settings::paths_to_check(paths, settings)?;
            options.plugins = gate.load_plugins(settings)?;
            let format = format
                .or(settings.and_then(|s| s.format))
                .unwrap_or(Format::Human);
            run_check(
                paths,
                gate.policy(settings),
                options,
                settings,
                format,
                output,
                color,
            )
        })(),
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
                ignores: Vec::new(),
                plugins: Default::default(),
            };
            run_check(vec![path], None, options, None, format, output, color)
        }
        Command::Pack {
            path,
            output,
            gate,
            format,
            color,
        } => (|| {
            let settings = Settings::resolve(
                gate.settings.config.as_deref(),
                gate.settings.no_config,
                std::slice::from_ref(&path),
            )?;
            let settings = settings.as_ref();
            let mut options = gate.options(settings);
            options.plugins = gate.load_plugins(settings)?;
            if options.modality.is_none() {
                options.modality = settings.and_then(|s| s.modality_for(&path));
            }
            let format = format
                .or(settings.and_then(|s| s.format))
                .unwrap_or(Format::Human);
            run_pack(path, output, gate.policy(settings), options, format, color)
        })(),
        Command::Push { push, gate } => run_push(push, gate),
        Command::Rules {
            code,
            write_docs,
            plugins,
        } => run_rules(code, write_docs, plugins),
        Command::Init { dir, modality } => {
            crate::init::create(&dir, modality).map(|()| EXIT_ACCEPTED)
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "gasguard",
                &mut std::io::stdout(),
            );
            Ok(EXIT_ACCEPTED)
        }
        Command::Man { dir } => write_man_pages(&dir).map(|()| EXIT_ACCEPTED),
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
    settings: Option<&Settings>,
    format: Format,
    output: Option<PathBuf>,
    color: ColorChoice,
) -> anyhow::Result<i32> {
    let policy = load_policy(policy)?;
    resolve_interpreter(&mut options)?;
    // The modality of each path: --modality, else the settings file's.
    let per_path: Vec<CheckOptions> = paths
        .iter()
        .map(|p| {
            let mut o = options.clone();
            if o.modality.is_none() {
                o.modality = settings.and_then(|s| s.modality_for(p));
            }
            o
        })
        .collect();
    let progress = crate::progress::Progress::new();
    // Each path is checked on its own thread; one bad path does not stop the others.
    type Timed = anyhow::Result<(check::SubmissionReport, std::time::Duration)>;
    let results: Vec<Timed> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .iter()
            .zip(&per_path)
            .map(|(p, options)| {
                let (policy, progress) = (&policy, &progress);
                std::thread::Builder::new()
                    .stack_size(64 << 20)
                    .spawn_scoped(scope, move || {
                        let task = progress.task(&p.display().to_string());
                        let started = std::time::Instant::now();
                        let result = check::check_path(p, policy, options);
                        drop(task);
                        result.map(|r| (r, started.elapsed()))
                    })
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
    drop(progress);
    let mut reports = Vec::new();
    let mut times = Vec::new();
    let mut failed = false;
    for r in results {
        match r {
            Ok((report, time)) => {
                reports.push(report);
                times.push(time);
            }
            Err(e) => {
                eprintln!("gasguard: error: {e:#}");
                failed = true;
            }
        }
    }
    emit(&reports, format, output.as_deref(), color)?;
    if format == Format::Human && reports.len() > 1 {
        let table = report::summary::table(&reports, &times);
        match &output {
            Some(path) => std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(table.as_bytes()))
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => print!("{table}"),
        }
    }
    if failed {
        return Ok(EXIT_ERROR);
    }
    Ok(match report::overall_verdict(&reports) {
        Verdict::Accept => EXIT_ACCEPTED,
        Verdict::Reject => EXIT_REJECTED,
    })
}

/// The man pages (`gasguard.1`, `gasguard-check.1`, ...), generated from
/// the argument definitions into `dir` (`docs/man`; a test keeps them in step).
pub fn write_man_pages(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("cannot write the man pages into {}", dir.display()))
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
        Format::Github => report::github::render(reports),
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
    let progress = crate::progress::Progress::new();
    let task = progress.task(&path.display().to_string());
    let packed = pack::pack_path(&path, &output, &policy, &options);
    drop(task);
    match packed? {
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
    // The same per-repo settings as `check` and `pack` (policy, ignores).
    let paths: Vec<PathBuf> = push
        .sources
        .iter()
        .chain(push.image_model.iter())
        .chain(push.video_model.iter())
        .chain(push.audio_model.iter())
        .cloned()
        .collect();
    let settings = Settings::resolve(
        gate.settings.config.as_deref(),
        gate.settings.no_config,
        &paths,
    )?;
    let settings = settings.as_ref();
    let policy = load_policy(gate.policy(settings))?;
    let mut options = gate.options(settings);
    if !push.status {
        resolve_interpreter(&mut options)?;
        options.plugins = gate.load_plugins(settings)?;
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

/// `--plugin` files (unpinned: named on the command line) after the
/// settings' plugins (pinned by sha256).
fn plugin_specs(given: &[PathBuf], settings: Option<&Settings>) -> Vec<crate::plugins::PluginSpec> {
    let pinned = settings.map(|s| s.plugins.clone()).unwrap_or_default();
    let given = given.iter().map(|path| crate::plugins::PluginSpec {
        path: path.clone(),
        sha256: None,
    });
    pinned.into_iter().chain(given).collect()
}

fn run_rules(
    code: Option<String>,
    write_docs: Option<PathBuf>,
    plugins: Vec<PathBuf>,
) -> anyhow::Result<i32> {
    let plugins = crate::plugins::Plugins::load(&plugin_specs(&plugins, None))?;
    let plugin_rules: Vec<&'static rules::Rule> =
        plugins.iter().flat_map(|p| p.info.rules.clone()).collect();
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
            print!("{}", rules_table(rules::all().chain(plugin_rules)));
            Ok(EXIT_ACCEPTED)
        }
        Some(code) => match rules::find(&code).or_else(|| {
            plugin_rules
                .into_iter()
                .find(|r| r.code.eq_ignore_ascii_case(&code) || r.name == code)
        }) {
            Some(rule) => {
                print!("{}", rule.docs_page());
                Ok(EXIT_ACCEPTED)
            }
            None => anyhow::bail!("no rule `{code}`; `gasguard rules` lists them all"),
        },
    }
}

fn rules_table<'a>(all: impl Iterator<Item = &'a rules::Rule>) -> String {
    let mut out = String::new();
    for r in all {
        out.push_str(&format!(
            "{:<5} {:<8} {:<10} {:<28} {}\n",
            r.code,
            r.severity.as_str(),
            r.class().as_str(),
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
         do not edit by hand (a test fails when these pages drift).\n\n\
         Class: a **policy** rule restates or protects what the network enforces and cannot be ignored; \
         a **hardening** rule is gasguard's own caution, which a repository may ignore with a reason \
         ([configuration](../configuration.md)).\n\n| code | name | severity | class | summary |\n| --- | --- | --- | --- | --- |\n",
    );
    for r in rules::all() {
        out.push_str(&format!(
            "| [{0}]({0}.md) | {1} | {2} | {3} | {4} |\n",
            r.code,
            r.name,
            r.severity.as_str(),
            r.class().as_str(),
            r.summary
        ));
    }
    out
}
