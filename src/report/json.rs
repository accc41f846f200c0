//! The JSON report: an API, documented in `docs/output.md`.

use serde_json::{Value, json};

use super::{JSON_SCHEMA_VERSION, overall_verdict, position};
use crate::check::SubmissionReport;
use crate::diagnostic::{Diagnostic, Severity};

pub fn render(reports: &[SubmissionReport]) -> String {
    let submissions: Vec<Value> = reports
        .iter()
        .map(|r| {
            let diagnostic = |d: &Diagnostic| {
                let pos = position(r, d);
                json!({
                        "code": d.rule.code,
                        "name": d.rule.name,
                        "severity": d.severity,
                        "message": d.message,
                        "path": d.file,
                        "line": pos.map(|p| p.line),
                        "column": pos.map(|p| p.column),
                        "end_line": pos.map(|p| p.end_line),
                        "end_column": pos.map(|p| p.end_column),
                        "help": d.help,
                        "url": d.rule.url(),
                })
            };
            let diagnostics: Vec<Value> = r.diagnostics.iter().map(diagnostic).collect();
            // Findings of ignored hardening rules, with the settings' reason.
            let suppressed: Vec<Value> = r
                .suppressed
                .iter()
                .map(|s| {
                    let mut v = diagnostic(&s.diagnostic);
                    v["suppression"] = json!({"reason": s.reason});
                    v
                })
                .collect();
            json!({
                "path": r.path,
                "kind": if r.is_zip { "zip" } else { "directory" },
                "verdict": r.verdict(),
                "modality": r.config.as_ref().and_then(|c| c.modality),
                "config": r.config,
                "weights": r.weights,
                "code": r.code,
                "entries": r.entries,
                "runtime": r.runtime,
                "plugins": r.plugins,
                "diagnostics": diagnostics,
                "suppressed": suppressed,
                "summary": {
                    "errors": r.count(Severity::Error),
                    "warnings": r.count(Severity::Warning),
                    "infos": r.count(Severity::Info),
                    "suppressed": r.suppressed.len(),
                },
            })
        })
        .collect();
    let doc = json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "gasguard", "version": env!("CARGO_PKG_VERSION")},
        "verdict": overall_verdict(reports),
        "submissions": submissions,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}
