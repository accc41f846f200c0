//! The static pipeline for one submission: intake → layout → config →
//! code → weights, every stage adding diagnostics to one report.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{self, ConfigFacts, Modality};
use crate::diagnostic::{Diagnostic, Severity};
use crate::policy::Policy;
use crate::rules;
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
    };
    if let Some(sub) = Submission::open(path, policy, &mut diags)? {
        report.is_zip = sub.is_zip();
        check_submission(&sub, policy, options, &mut report, &mut diags);
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
    report.diagnostics = diags;
    Ok(report)
}

fn check_submission(
    sub: &Submission,
    policy: &Policy,
    options: &CheckOptions,
    report: &mut SubmissionReport,
    diags: &mut Vec<Diagnostic>,
) {
    if !sub.entries.iter().any(|e| e.kind == EntryKind::File) {
        diags.push(
            Diagnostic::new(
                &rules::archive::EMPTY_SUBMISSION,
                "the submission contains no files",
            )
            .help("a submission holds model_config.yaml, model.py and model.safetensors"),
        );
        return;
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
    if let Some(entry) = sub.find(&model_path) {
        match sub.read_all(entry, policy.limits.max_text_file_bytes) {
            Ok(bytes) => {
                let (mut d, text) = crate::python::check(&model_path, &bytes, policy, &facts);
                diags.append(&mut d);
                if let Some(text) = text {
                    report.sources.insert(model_path.clone(), text);
                }
            }
            Err(e) => diags.push(e.diagnostic(&model_path)),
        }
    }

    let weights_path = layout.path(&facts.weights_file);
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

    if options.sandbox == SandboxMode::Auto {
        diags.push(
            Diagnostic::new(
                &rules::runtime::RUNTIME_SKIPPED,
                "the runtime stage (load_model and a forward pass in a sandbox) did not run: this build has no runtime stage yet",
            )
            .help("static checks passed or failed on their own; run the model once locally before pushing"),
        );
    }
    report.config = Some(facts);
}
