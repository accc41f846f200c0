//! The static pipeline for one submission: intake → layout → config →
//! code → weights, every stage adding diagnostics to one report.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{self, ConfigFacts, Modality};
use crate::diagnostic::{Diagnostic, MAX_REPEATS, Severity};
use crate::policy::Policy;
use crate::rules;
use crate::runtime;
use crate::submission::layout::{self, CONFIG_FILE, MODEL_FILE};
use crate::submission::{EntryKind, Submission, names};
use crate::weights::{self, WeightsSummary};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxMode {
    Auto,
    On,
    Off,
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub modality: Option<Modality>,
    pub strict: bool,
    pub sandbox: SandboxMode,
    /// The interpreter for the runtime stage, resolved once per invocation
    /// (`Err` says why there is none). Unused with `--sandbox off`.
    pub interpreter: Option<Result<runtime::Interpreter, String>>,
    pub runtime: runtime::RuntimeOptions,
    /// `false` for `gasguard sandbox`: static findings are not reported.
    pub static_checks: bool,
    /// Hardening rules the repository's settings ignore (`gasguard.toml`).
    pub ignores: Vec<crate::suppression::Ignore>,
    /// Policy plugins (`--plugin`, settings' `plugins`), run after the static checks.
    pub plugins: crate::plugins::Plugins,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accept,
    Reject,
}

/// Everything found about one submission.
#[derive(Debug)]
pub struct SubmissionReport {
    /// The path as the user gave it.
    pub path: String,
    pub is_zip: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// Text of files that diagnostics point into, for rendering snippets.
    pub sources: BTreeMap<String, String>,
    pub config: Option<ConfigFacts>,
    pub weights: Vec<WeightsSummary>,
    pub runtime: Option<runtime::RuntimeFacts>,
    /// What model.py imports and calls, when it parsed.
    pub code: Option<crate::python::CodeInventory>,
    /// Every entry as gasguard read it (name, declared size, kind).
    pub entries: Vec<EntrySummary>,
    /// Findings of ignored hardening rules: out of the verdict, still reported.
    pub suppressed: Vec<crate::suppression::Suppressed>,
    /// The plugins that ran, with their rules (SARIF lists them).
    pub plugins: Vec<crate::plugins::PluginSummary>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct EntrySummary {
    pub name: String,
    pub size: u64,
    pub kind: &'static str,
}

impl SubmissionReport {
    pub fn verdict(&self) -> Verdict {
        if self.diagnostics.iter().any(Diagnostic::is_error) {
            Verdict::Reject
        } else {
            Verdict::Accept
        }
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
}

/// Runs every static check on one path. `Err` means the path itself could
/// not be opened (a usage error, exit 2), not that the submission is bad.
pub fn check_path(
    path: &Path,
    policy: &Policy,
    options: &CheckOptions,
) -> anyhow::Result<SubmissionReport> {
    let mut diags = Vec::new();
    let mut report = SubmissionReport {
        path: path.display().to_string(),
        is_zip: false,
        diagnostics: Vec::new(),
        sources: BTreeMap::new(),
        config: None,
        weights: Vec::new(),
        runtime: None,
        code: None,
        entries: Vec::new(),
        suppressed: Vec::new(),
        plugins: Vec::new(),
    };
    if let Some(sub) = Submission::open(path, policy, &mut diags)? {
        report.is_zip = sub.is_zip();
        report.entries = sub
            .entries
            .iter()
            .map(|e| EntrySummary {
                name: e.name.clone(),
                size: e.size,
                kind: match e.kind {
                    EntryKind::File => "file",
                    EntryKind::Dir => "dir",
                    EntryKind::Symlink => "symlink",
                    EntryKind::Special => "special",
                },
            })
            .collect();
        check_submission(&sub, policy, options, &mut report, &mut diags)?;
        if options.static_checks && !options.plugins.is_empty() {
            crate::progress::stage("running plugins");
            let modality = options.modality;
            let mut found = options.plugins.run(&report, &diags, policy, modality)?;
            diags.append(&mut found);
            report.plugins = options.plugins.summaries();
        }
    } else if !options.static_checks {
        diags.push(Diagnostic::new(
            &rules::runtime::NO_RESULT,
            "the submission cannot be read, so it cannot run",
        ));
    }
    if options.strict {
        for d in &mut diags {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
        }
    }
    diags.sort_by(|a, b| {
        (
            a.file.as_deref(),
            a.span.as_ref().map(|s| s.start),
            a.rule.code,
        )
            .cmp(&(
                b.file.as_deref(),
                b.span.as_ref().map(|s| s.start),
                b.rule.code,
            ))
    });
    (report.diagnostics, report.suppressed) =
        crate::suppression::apply(&options.ignores, cap_repeats(diags));
    Ok(report)
}

/// Bytes of entry data (decompressed) `check` reads to verify CRC-32s; the
/// static stage's bound is "an input up to 50 MB is judged whole, larger
/// ones on their metadata".
const VERIFY_BUDGET: u64 = 64 << 20;

/// Python's `zipfile`, which the evaluator extracts with, fails on any entry
/// whose data does not decompress or does not match its CRC-32. Entries the
/// stages did not read whole (`already_read` were) are verified here,
/// smallest first, within `VERIFY_BUDGET`: a real submission's large weights
/// are the only thing left unread, and `gasguard pack` reads those.
fn verify_entry_data(sub: &Submission, already_read: &[&str], diags: &mut Vec<Diagnostic>) {
    let mut entries: Vec<_> = sub
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File && !already_read.contains(&e.name.as_str()))
        .collect();
    entries.sort_by_key(|e| e.size);
    let mut budget = VERIFY_BUDGET;
    for entry in entries {
        if entry.size > budget {
            break;
        }
        budget -= entry.size;
        if let Err(e) = sub.copy_verified(entry, &mut std::io::sink()) {
            diags.push(e.diagnostic(&entry.name));
        }
    }
}

/// Keeps the first `MAX_REPEATS` findings of each rule in each file (the
/// input is sorted by file and position) and adds one finding saying how
/// many more there are (counting those a stage did not store), with the
/// same rule and severity, so the verdict is unchanged: a file of 100,000
/// identical problems must not make a 100,000-entry report.
fn cap_repeats(diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    struct Seen {
        listed: usize,
        total: usize,
        severity: Severity,
        rule: &'static rules::Rule,
    }
    let mut seen: BTreeMap<(Option<String>, &'static str), Seen> = BTreeMap::new();
    let mut kept = Vec::new();
    for d in diags {
        let entry = seen.entry((d.file.clone(), d.rule.code)).or_insert(Seen {
            listed: 0,
            total: 0,
            severity: d.severity,
            rule: d.rule,
        });
        entry.total += 1 + d.omitted;
        entry.severity = entry.severity.max(d.severity);
        if entry.listed < MAX_REPEATS {
            entry.listed += 1;
            kept.push(d);
        }
    }
    for ((file, code), s) in seen {
        if s.total <= s.listed {
            continue;
        }
        let mut summary = Diagnostic::new(
            s.rule,
            format!(
                "{} more {code} findings like the ones above are not listed",
                s.total - s.listed
            ),
        )
        .severity(s.severity)
        .help("fix the ones listed and check again");
        if let Some(file) = file {
            summary = summary.in_file(file);
        }
        kept.push(summary);
    }
    kept
}

fn check_submission(
    sub: &Submission,
    policy: &Policy,
    options: &CheckOptions,
    report: &mut SubmissionReport,
    diags: &mut Vec<Diagnostic>,
) -> anyhow::Result<()> {
    if !sub.entries.iter().any(|e| e.kind == EntryKind::File) {
        diags.push(
            Diagnostic::new(
                &rules::archive::EMPTY_SUBMISSION,
                "the submission contains no files",
            )
            .help("a submission holds model_config.yaml, model.py and model.safetensors"),
        );
        return Ok(());
    }
    names::check(&sub.entries, policy, diags);
    let layout = layout::check(sub, policy, diags);

    let mut facts = ConfigFacts {
        dtype: "float32".into(),
        weights_file: config::DEFAULT_WEIGHTS_FILE.into(),
        ..Default::default()
    };
    let config_path = layout.path(CONFIG_FILE);
    if let Some(entry) = sub.find(&config_path) {
        match sub.read_all(entry, policy.limits.max_text_file_bytes) {
            Ok(bytes) => {
                let (f, mut d, text) =
                    config::check(&config_path, &bytes, policy, options.modality);
                facts = f;
                diags.append(&mut d);
                if let Some(text) = text {
                    report.sources.insert(config_path.clone(), text);
                }
            }
            Err(e) => diags.push(e.diagnostic(&config_path)),
        }
    }

    let model_path = layout.path(MODEL_FILE);
    crate::progress::stage("analysing model.py");
    if let Some(entry) = sub.find(&model_path) {
        match sub.read_all(entry, policy.limits.max_text_file_bytes) {
            Ok(bytes) => {
                let mut code = crate::python::check(&model_path, &bytes, policy, &facts);
                diags.append(&mut code.diagnostics);
                if let Some(text) = code.source {
                    report.sources.insert(model_path.clone(), text);
                }
                report.code = code.inventory;
            }
            Err(e) => diags.push(e.diagnostic(&model_path)),
        }
    }

    let weights_path = layout.path(&facts.weights_file);
    crate::progress::stage("reading the weights");
    if sub.find(&weights_path).is_none() {
        let named = if facts.weights_file == config::DEFAULT_WEIGHTS_FILE {
            "the default"
        } else {
            "the config's"
        };
        diags.push(
            Diagnostic::new(
                &rules::layout::MISSING_WEIGHTS,
                format!("{named} weights file `{}` is missing", facts.weights_file),
            )
            .help("add the weights, or set `model.weights_file` to the .safetensors file you ship"),
        );
    }
    for entry in sub
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::File && e.name.ends_with(".safetensors"))
    {
        let result = sub.reader(entry).map(|mut reader| {
            weights::check(
                &entry.name,
                &mut reader,
                entry.size,
                policy.limits.weights_max_header_bytes,
                &facts.dtype,
                diags,
            )
        });
        match result {
            Ok(Some(summary)) => report.weights.push(summary),
            Ok(None) => {}
            Err(e) => diags.push(
                Diagnostic::new(
                    &rules::archive::UNREADABLE_FILE,
                    format!("cannot read `{}`: {e}", entry.name),
                )
                .in_file(entry.name.clone()),
            ),
        }
    }

    if sub.is_zip() {
        crate::progress::stage("verifying the archive's data");
        verify_entry_data(sub, &[config_path.as_str(), model_path.as_str()], diags);
    }

    let static_errors = diags.iter().any(Diagnostic::is_error);
    if !options.static_checks {
        // `gasguard sandbox`: only what prevents running is kept.
        let blocking: Vec<Diagnostic> = diags.drain(..).filter(Diagnostic::is_error).collect();
        if facts.input_shape.is_none() || sub.find(&weights_path).is_none() {
            let reasons: Vec<String> = blocking
                .iter()
                .take(5)
                .map(|d| format!("{} {}", d.rule.code, d.message))
                .collect();
            diags.push(
                Diagnostic::new(
                    &rules::runtime::NO_RESULT,
                    format!("the submission cannot run: {}", reasons.join("; ")),
                )
                .help("`gasguard check` explains each problem"),
            );
            report.config = Some(facts);
            return Ok(());
        }
    }
    match options.sandbox {
        SandboxMode::Off => {}
        _ if static_errors && options.static_checks => diags.push(
            Diagnostic::new(
                &rules::runtime::RUNTIME_SKIPPED,
                "the runtime stage did not run because the static checks failed",
            )
            .severity(Severity::Info)
            .help("fix the errors above; the model is run only when they pass"),
        ),
        mode => {
            crate::progress::stage("running the model in the sandbox");
            let outcome = match &options.interpreter {
                Some(Ok(interp)) => {
                    runtime::run(sub, &layout, &facts, interp, &options.runtime).map_err(|u| u.0)
                }
                Some(Err(reason)) => Err(reason.clone()),
                None => Err("no interpreter was resolved".to_string()),
            };
            match outcome {
                Ok((mut found, facts_out)) => {
                    diags.append(&mut found);
                    report.runtime = Some(facts_out);
                }
                Err(reason) if mode == SandboxMode::On => anyhow::bail!("--sandbox on: {reason}"),
                Err(reason) => diags.push(
                    Diagnostic::new(&rules::runtime::RUNTIME_SKIPPED, format!("the runtime stage did not run: {reason}"))
                        .help("static checks alone cannot show that the model loads and runs; run `scripts/setup-venv.sh` or pass --python"),
                ),
            }
        }
    }
    report.config = Some(facts);
    Ok(())
}
