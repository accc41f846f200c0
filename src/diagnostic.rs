//! The one shape every finding takes, from the archive reader to the sandbox.
//!
//! Locations are byte ranges into a file of the submission; line and column
//! are computed only when a report is rendered (as ruff does).

use std::ops::Range;

use serde::Serialize;

use crate::rules::Rule;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary span with its own message ("first defined here").
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Range<usize>,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub message: String,
    /// Path of the file inside the submission (`/`-separated), when the
    /// finding belongs to one file.
    pub file: Option<String>,
    /// Byte range inside `file`, when the finding has a precise place.
    pub span: Option<Range<usize>>,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    /// Further findings of the same rule in the same file that a stage did
    /// not keep (it stops storing repeats to bound memory); the report
    /// counts them in its "N more" summary.
    pub omitted: usize,
}

/// Findings of one rule in one file kept in full; the rest are counted.
pub const MAX_REPEATS: usize = 50;

impl Diagnostic {
    pub fn new(rule: &'static Rule, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            severity: rule.severity,
            message: message.into(),
            file: None,
            span: None,
            labels: Vec::new(),
            help: None,
            omitted: 0,
        }
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn label(mut self, span: Range<usize>, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// 1-based line and column (in Unicode scalar values) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let src = "a: 1\nbé: x\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 5), (2, 1));
        // 'x' is after "bé: " = 1 + 2 + 2 bytes
        assert_eq!(line_column(src, 10), (2, 5));
        // Offsets past the end clamp rather than panic.
        assert_eq!(line_column(src, 999), (3, 1));
    }
}
