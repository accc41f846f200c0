//! Command-line interface: argument parsing and dispatch. The work lives in
//! the library modules; this file only wires them to the terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckOptions, SandboxMode, Verdict};
use crate::config::Modality;
use crate::policy::Policy;
use crate::report::{self, Format};
use crate::rules;

/// Exit codes: the contract with scripts and CI.
pub const EXIT_ACCEPTED: i32 = 0;
pub const EXIT_REJECTED: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Check submissions (directories or .zip files) and report every problem.
    Check {
        /// Submission directories or ZIP archives.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The slot you intend to push to; the config's modality must match.
        #[arg(long, value_enum)]
        modality: Option<Modality>,
        /// A policy file replacing the built-in rules/sn34.yaml.
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Write the report to FILE instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Run the model in the sandbox after the static checks.
        #[arg(long, value_enum, default_value = "auto")]
        sandbox: SandboxMode,
        /// Python interpreter for the runtime stage.
        #[arg(long)]
        python: Option<PathBuf>,
        /// Treat warnings as errors.
        #[arg(long)]
        strict: bool,
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorChoice,
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
            modality,
            policy,
            format,
            output,
            sandbox,
            python: _,
            strict,
            color,
        } => run_check(
            paths, modality, policy, format, output, sandbox, strict, color,
        ),
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

#[allow(clippy::too_many_arguments)]
fn run_check(
    paths: Vec<PathBuf>,
    modality: Option<Modality>,
    policy: Option<PathBuf>,
    format: Format,
    output: Option<PathBuf>,
    sandbox: SandboxMode,
    strict: bool,
    color: ColorChoice,
) -> anyhow::Result<i32> {
    if sandbox == SandboxMode::On {
        anyhow::bail!(
            "--sandbox on: this build of gasguard has no runtime stage yet, so the model cannot be run; \
             use --sandbox off (static checks only) or --sandbox auto (static checks, with a warning)"
        );
    }
    let policy = match policy {
        Some(path) => Policy::load(&path)?,
        None => Policy::builtin(),
    };
    let options = CheckOptions {
        modality,
        strict,
        sandbox,
    };
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
        Format::Human => report::human::render(&reports, use_color),
        Format::Json => report::json::render(&reports),
        Format::Sarif => report::sarif::render(&reports),
    };
    match output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
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
