//! Reading a settings file: TOML into raw tables (unknown keys refused),
//! then every value checked, each problem reported with its line and column.

use std::ops::Range;
use std::path::Path;

use clap::ValueEnum;
use serde::Deserialize;
use toml::Spanned;

use super::{Settings, SubmissionSetting};
use crate::check::SandboxMode;
use crate::config::Modality;
use crate::diagnostic::line_column;
use crate::report::Format;
use crate::rules::{self, class::RuleClass};
use crate::suppression::Ignore;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    submission: Vec<RawSubmission>,
    policy: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    strict: Option<bool>,
    sandbox: Option<Spanned<String>>,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
    #[serde(default)]
    plugins: Vec<RawPlugin>,
}

/// `plugins = [{ path = "...", sha256 = "..." }]`: pinned, always.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    path: Spanned<String>,
    sha256: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubmission {
    path: Spanned<String>,
    modality: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: Spanned<String>,
    reason: Option<Spanned<String>>,
}

/// `pyproject.toml`: only `[tool.gasguard]` is ours; the rest is not read.
#[derive(Deserialize)]
struct PyProject {
    tool: Option<PyProjectTool>,
}

#[derive(Deserialize)]
struct PyProjectTool {
    gasguard: Option<RawSettings>,
}

/// Every problem of one file, each with its place.
struct Problems<'a> {
    text: &'a str,
    origin: &'a Path,
    found: Vec<String>,
}

impl Problems<'_> {
    fn add(&mut self, span: Range<usize>, message: impl std::fmt::Display) {
        let (line, col) = line_column(self.text, span.start);
        self.found
            .push(format!("{}:{line}:{col}: {message}", self.origin.display()));
    }
}

pub(super) fn parse(
    text: &str,
    origin: &Path,
    is_pyproject: bool,
) -> anyhow::Result<Option<Settings>> {
    let mut problems = Problems {
        text,
        origin,
        found: Vec::new(),
    };
    let raw = if is_pyproject {
        toml::from_str::<PyProject>(text).map(|p| p.tool.and_then(|t| t.gasguard))
    } else {
        toml::from_str::<RawSettings>(text).map(Some)
    };
    let raw = match raw {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(None),
        Err(e) => {
            problems.add(e.span().unwrap_or(0..0), e.message().trim_end());
            return Err(refusal(problems));
        }
    };
    let base = origin.parent().unwrap_or(Path::new("."));
    let mut settings = Settings {
        origin: origin.to_path_buf(),
        strict: raw.strict,
        ..Settings::default()
    };
    for s in raw.submission {
        let modality = s
            .modality
            .and_then(|m| choice::<Modality>(&mut problems, &m, "modality"));
        let path = base.join(s.path.get_ref());
        if s.path.get_ref().trim().is_empty() || !path.exists() {
            problems.add(
                s.path.span(),
                format_args!(
                    "submission `{}` does not exist (paths are relative to this file)",
                    s.path.get_ref()
                ),
            );
            continue;
        }
        settings
            .submissions
            .push(SubmissionSetting { path, modality });
    }
    if let Some(p) = raw.policy {
        let path = base.join(p.get_ref());
        if path.is_file() {
            settings.policy = Some(path);
        } else {
            problems.add(
                p.span(),
                format_args!(
                    "policy file `{}` does not exist (paths are relative to this file)",
                    p.get_ref()
                ),
            );
        }
    }
    settings.format = raw
        .format
        .and_then(|f| choice::<Format>(&mut problems, &f, "format"));
    settings.sandbox = raw
        .sandbox
        .and_then(|s| choice::<SandboxMode>(&mut problems, &s, "sandbox"));
    for entry in raw.ignore {
        let span = entry.span();
        let RawIgnore { rule, reason } = entry.into_inner();
        let Some(found) = rules::find(rule.get_ref()) else {
            problems.add(
                rule.span(),
                format_args!("no rule `{}`; `gasguard rules` lists them", rule.get_ref()),
            );
            continue;
        };
        if found.class() == RuleClass::Policy {
            problems.add(
                rule.span(),
                format_args!(
                    "{} ({}) is a policy rule: the network enforces it, so it cannot be ignored; fix the submission instead (`gasguard rules` shows which rules are hardening rules)",
                    found.code, found.name
                ),
            );
            continue;
        }
        match reason {
            Some(r) if !r.get_ref().trim().is_empty() => settings.ignores.push(Ignore {
                rule: found,
                reason: r.into_inner().trim().to_string(),
            }),
            Some(r) => problems.add(r.span(), "`reason` is empty: say why it is safe to ignore"),
            None => problems.add(
                span,
                format_args!(
                    "ignoring {} needs a `reason`: say why it is safe to ignore",
                    found.code
                ),
            ),
        }
    }
    for plugin in raw.plugins {
        let path = base.join(plugin.path.get_ref());
        if plugin.path.get_ref().trim().is_empty() || !path.is_file() {
            problems.add(
                plugin.path.span(),
                format_args!(
                    "plugin `{}` does not exist (paths are relative to this file)",
                    plugin.path.get_ref()
                ),
            );
            continue;
        }
        let hash = plugin.sha256.get_ref();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.add(
                plugin.sha256.span(),
                "`sha256` is the plugin's SHA-256 as 64 hex digits (`sha256sum FILE.wasm`)",
            );
            continue;
        }
        settings.plugins.push(crate::plugins::PluginSpec {
            path,
            sha256: Some(hash.to_ascii_lowercase()),
        });
    }
    if problems.found.is_empty() {
        Ok(Some(settings))
    } else {
        Err(refusal(problems))
    }
}

fn choice<T: ValueEnum>(problems: &mut Problems, value: &Spanned<String>, key: &str) -> Option<T> {
    match T::from_str(value.get_ref(), true) {
        Ok(v) => Some(v),
        Err(_) => {
            let allowed: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value())
                .map(|v| v.get_name().to_string())
                .collect();
            problems.add(
                value.span(),
                format_args!(
                    "`{key}` is `{}`; expected one of: {}",
                    value.get_ref(),
                    allowed.join(", ")
                ),
            );
            None
        }
    }
}

fn refusal(problems: Problems) -> anyhow::Error {
    anyhow::anyhow!(
        "invalid settings in {}:\n  {}\n(fix the file, or pass --no-config to ignore it)",
        problems.origin.display(),
        problems.found.join("\n  ")
    )
}
