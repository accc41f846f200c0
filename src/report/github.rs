//! GitHub Actions workflow commands: one annotation per finding
//! (`::error file=...,line=...,col=...::message`), for runs without code
//! scanning. Paths are relative to the current directory (the workspace in
//! a job); a finding inside a ZIP is annotated on the ZIP.

use super::human::sanitize;
use super::{position, relative_to_cwd};
use crate::check::{SubmissionReport, Verdict};
use crate::diagnostic::Severity;

/// Escapes a message (workflow-command data).
fn data(text: &str) -> String {
    sanitize(text)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (also `:` and `,`, the property syntax).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(reports: &[SubmissionReport]) -> String {
    let mut out = String::new();
    for report in reports {
        let base = relative_to_cwd(&report.path);
        for d in &report.diagnostics {
            let command = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut props = Vec::new();
            let mut message = d.message.clone();
            match (&d.file, report.is_zip) {
                (Some(file), false) => {
                    props.push(format!("file={}", property(&format!("{base}/{file}"))));
                    if let Some(p) = position(report, d) {
                        props.push(format!("line={}", p.line));
                        props.push(format!("col={}", p.column));
                        props.push(format!("endLine={}", p.end_line));
                        props.push(format!("endColumn={}", p.end_column));
                    }
                }
                (Some(file), true) => {
                    props.push(format!("file={}", property(&base)));
                    let at = position(report, d)
                        .map_or(String::new(), |p| format!(":{}:{}", p.line, p.column));
                    message = format!("{file}{at}: {message}");
                }
                (None, _) => props.push(format!("file={}", property(&base))),
            }
            props.push(format!(
                "title={}",
                property(&format!("{} {}", d.rule.code, d.rule.name))
            ));
            if let Some(help) = &d.help {
                message = format!("{message}\nhelp: {help}");
            }
            message = format!("{message}\n{}", d.rule.url());
            out.push_str(&format!(
                "::{command} {}::{}\n",
                props.join(","),
                data(&message)
            ));
        }
        let word = match report.verdict() {
            Verdict::Accept => "accepted",
            Verdict::Reject => "rejected",
        };
        out.push_str(&format!(
            "{}: {word} ({} errors, {} warnings, {} suppressed)\n",
            data(&report.path),
            report.count(Severity::Error),
            report.count(Severity::Warning),
            report.suppressed.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_syntax_is_escaped() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
