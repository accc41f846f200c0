//! Rendering reports: human (miette), JSON and SARIF.

use crate::check::{SubmissionReport, Verdict};
use crate::diagnostic::{Diagnostic, line_column};

pub mod github;
pub mod human;
pub mod json;
pub mod sarif;
pub mod summary;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
}

/// Version of the JSON report's schema (`docs/output.md`); bump on change.
pub const JSON_SCHEMA_VERSION: u32 = 1;

pub fn overall_verdict(reports: &[SubmissionReport]) -> Verdict {
    if reports.iter().any(|r| r.verdict() == Verdict::Reject) {
        Verdict::Reject
    } else {
        Verdict::Accept
    }
}

/// A diagnostic's resolved position: 1-based lines and columns.
#[derive(Clone, Copy, Debug, Default)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub fn position(report: &SubmissionReport, d: &Diagnostic) -> Option<Position> {
    let source = report.sources.get(d.file.as_ref()?)?;
    let span = d.span.as_ref()?;
    let (line, column) = line_column(source, span.start);
    let (end_line, end_column) = line_column(source, span.end.max(span.start));
    Some(Position {
        line,
        column,
        end_line,
        end_column,
    })
}

/// `path` relative to the current directory when it lies under it
/// (`/`-separated, no `./` or trailing `/`; `.` for the directory itself).
pub fn under_cwd(path: &str) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let absolute = std::path::absolute(path).ok()?;
    let cwd = std::fs::canonicalize(&cwd).unwrap_or(cwd);
    let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
    let relative = absolute.strip_prefix(&cwd).ok()?;
    let text = relative.to_string_lossy().replace('\\', "/");
    Some(if text.is_empty() { ".".into() } else { text })
}

/// How GitHub wants a file named: relative to the current directory (the
/// workspace in a job) when it lies under it, else as given.
pub fn relative_to_cwd(path: &str) -> String {
    under_cwd(path).unwrap_or_else(|| path.trim_end_matches('/').to_string())
}
