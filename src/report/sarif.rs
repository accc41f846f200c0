//! SARIF 2.1.0, as GitHub code scanning reads it.
//!
//! Findings in a directory submission point at the real file; findings in a
//! ZIP point at the archive itself (SARIF has no portable way to address a
//! file inside an archive), with the inner path and position in the message.

use serde_json::{Value, json};

use super::position;
use crate::check::SubmissionReport;
use crate::diagnostic::Severity;
use crate::rules;

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(reports: &[SubmissionReport]) -> String {
    let all: Vec<_> = rules::all().collect();
    let rule_objects: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.docs(), "markdown": r.docs()},
                "helpUri": r.url(),
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let mut results = Vec::new();
    for report in reports {
        let base = report.path.trim_end_matches('/').replace('\\', "/");
        for d in &report.diagnostics {
            let pos = position(report, d);
            let index = all.iter().position(|r| r.code == d.rule.code).unwrap_or(0);
            let mut text = d.message.clone();
            let mut physical = json!({"artifactLocation": {"uri": base}});
            match (&d.file, report.is_zip) {
                (Some(file), false) => {
                    physical = json!({"artifactLocation": {"uri": format!("{base}/{file}")}});
                    if let Some(p) = pos {
                        physical["region"] = json!({
                            "startLine": p.line, "startColumn": p.column,
                            "endLine": p.end_line, "endColumn": p.end_column,
                        });
                    }
                }
                (Some(file), true) => {
                    let at = pos.map_or(String::new(), |p| format!(":{}:{}", p.line, p.column));
                    text = format!("{file}{at}: {text}");
                }
                (None, _) => {}
            }
            if let Some(help) = &d.help {
                text = format!("{text}\nhelp: {help}");
            }
            results.push(json!({
                "ruleId": d.rule.code,
                "ruleIndex": index,
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical}],
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gasguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": rules::DOCS_BASE_URL,
                "rules": rule_objects,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}
