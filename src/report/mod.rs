//! Rendering reports: human (miette), JSON and SARIF.

use crate::check::{SubmissionReport, Verdict};
use crate::diagnostic::{Diagnostic, line_column};

pub mod human;
pub mod json;
pub mod sarif;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
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
