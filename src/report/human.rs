//! The human report: miette's graphical diagnostics with source snippets,
//! then a one-line verdict per submission.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::check::{SubmissionReport, Verdict};
use crate::diagnostic::{Diagnostic, Severity};

/// Adapts one of our diagnostics (and the file it points into) to miette.
struct Rendered<'a> {
    d: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    url: String,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.d.file, &self.source) {
            (Some(file), None) => write!(f, "{file}: {}", self.d.message),
            _ => f.write_str(&self.d.message),
        }
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.d.rule.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.d
            .help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn url<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.url.clone()))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.d.span.clone()?;
        let primary =
            LabeledSpan::new_primary_with_span(Some("here".into()), SourceSpan::from(span));
        let secondary = self.d.labels.iter().map(|l| {
            LabeledSpan::new_with_span(Some(l.message.clone()), SourceSpan::from(l.span.clone()))
        });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

pub use crate::sanitize::sanitize;

pub fn render(reports: &[SubmissionReport], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    for report in reports {
        for d in &report.diagnostics {
            let mut safe = d.clone();
            safe.message = sanitize(&d.message);
            safe.help = d.help.as_deref().map(sanitize);
            safe.file = d.file.as_deref().map(sanitize);
            let source = match (&d.file, &d.span) {
                (Some(file), Some(_)) => report.sources.get(file).map(|text| {
                    NamedSource::new(
                        format!("{}:{}", sanitize(&report.path), sanitize(file)),
                        sanitize(text),
                    )
                }),
                _ => None,
            };
            let rendered = Rendered {
                d: &safe,
                source,
                url: d.rule.url(),
            };
            if handler.render_report(&mut out, &rendered).is_err() {
                out.push_str(&format!(
                    "{}[{}]: {}\n",
                    d.severity.as_str(),
                    d.rule.code,
                    safe.message
                ));
            }
            out.push('\n');
        }
        for w in &report.weights {
            out.push_str(&format!(
                "  weights {}: {} tensors, {} parameters, {} bytes ({})\n",
                sanitize(&w.file),
                w.tensors,
                w.parameters,
                w.total_bytes,
                w.dtypes.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        let (mark, word) = match report.verdict() {
            Verdict::Accept => (if color { "\x1b[32m✓\x1b[0m" } else { "✓" }, "accepted"),
            Verdict::Reject => (if color { "\x1b[31m✗\x1b[0m" } else { "✗" }, "rejected"),
        };
        let suppressed = match report.suppressed.len() {
            0 => String::new(),
            n => format!(", {n} suppressed by settings"),
        };
        out.push_str(&format!(
            "{mark} {}: {word} ({} errors, {} warnings{suppressed})\n",
            sanitize(&report.path),
            report.count(Severity::Error),
            report.count(Severity::Warning)
        ));
    }
    out
}
