//! SARIF 2.1.0, as GitHub code scanning reads it.
//!
//! Files are named relative to the current directory (the repository root
//! in a job) through `originalUriBaseIds` `%SRCROOT%`; a path outside it is
//! an absolute `file://` URI. Findings in a directory submission point at
//! the real file; findings in a ZIP point at the archive itself (SARIF has
//! no portable way to address a file inside an archive), with the inner
//! path and position in the message. Every result carries a fingerprint
//! that survives unrelated edits (rule, file, the flagged text, and which
//! occurrence of it), and findings of ignored hardening rules are present
//! with a `suppressions` entry holding the repository's reason.

use std::collections::HashMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{position, under_cwd};
use crate::check::SubmissionReport;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules;

/// The base every relative URI is resolved against.
const SRCROOT: &str = "%SRCROOT%";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encodes what a URI path may not hold as is.
fn uri_path(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The artifact location of `path` (relative to `%SRCROOT%` when it can be).
fn artifact(path: &str) -> Value {
    match under_cwd(path) {
        Some(rel) => json!({"uri": uri_path(&rel), "uriBaseId": SRCROOT}),
        None => {
            let abs = std::path::absolute(path)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_else(|_| path.to_string());
            json!({"uri": format!("file://{}", uri_path(&abs))})
        }
    }
}

fn rule_object(r: &rules::Rule) -> Value {
    let mut tags = vec![r.class().as_str()];
    let mut properties = json!({});
    if let Some(score) = r.security_severity() {
        tags.push("security");
        properties["security-severity"] = json!(score);
    }
    properties["tags"] = json!(tags);
    json!({
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.summary},
        "help": {"text": r.docs(), "markdown": r.docs()},
        "helpUri": r.url(),
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": properties,
    })
}

/// What a finding is about, independent of where in the file it sits.
fn fingerprint_key(report: &SubmissionReport, d: &Diagnostic, uri: &str) -> String {
    let flagged = match (&d.file, &d.span) {
        (Some(file), Some(span)) => report
            .sources
            .get(file)
            .and_then(|text| text.get(span.clone()))
            .map(str::to_string),
        _ => None,
    };
    format!(
        "{}\0{uri}\0{}\0{}",
        d.rule.code,
        d.file.as_deref().unwrap_or(""),
        flagged.unwrap_or_else(|| d.message.clone())
    )
}

/// Each plugin as a tool extension with its own rules (SARIF §3.19.3):
/// (name, version, rules), in the order the reports name them.
fn plugin_components(reports: &[SubmissionReport]) -> Vec<(&str, &str, &[&'static rules::Rule])> {
    let mut out: Vec<(&str, &str, &[&'static rules::Rule])> = Vec::new();
    for plugin in reports.iter().flat_map(|r| &r.plugins) {
        if !out.iter().any(|(name, ..)| *name == plugin.name) {
            out.push((&plugin.name, &plugin.version, &plugin.rules));
        }
    }
    out
}

pub fn render(reports: &[SubmissionReport]) -> String {
    let all: Vec<_> = rules::all().collect();
    let rule_objects: Vec<Value> = all.iter().map(|r| rule_object(r)).collect();
    let components = plugin_components(reports);
    let extensions: Vec<Value> = components
        .iter()
        .map(|(name, version, rules)| {
            json!({
                "name": name,
                "version": version,
                "rules": rules.iter().map(|r| rule_object(r)).collect::<Vec<_>>(),
            })
        })
        .collect();
    // A plugin rule's place: (extension index, rule index within it).
    let plugin_rule = |code: &str| {
        components
            .iter()
            .enumerate()
            .find_map(|(i, (_, _, rules))| {
                rules.iter().position(|r| r.code == code).map(|j| (i, j))
            })
    };
    let mut results = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for report in reports {
        let base = report.path.trim_end_matches('/').replace('\\', "/");
        let listed = report.diagnostics.iter().map(|d| (d, None));
        let suppressed = report
            .suppressed
            .iter()
            .map(|s| (&s.diagnostic, Some(s.reason.as_str())));
        for (d, suppression) in listed.chain(suppressed) {
            let pos = position(report, d);
            let index = all.iter().position(|r| r.code == d.rule.code).unwrap_or(0);
            let mut text = d.message.clone();
            let mut physical = json!({"artifactLocation": artifact(&base)});
            match (&d.file, report.is_zip) {
                (Some(file), false) => {
                    physical = json!({"artifactLocation": artifact(&format!("{base}/{file}"))});
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
            let uri = physical["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let key = fingerprint_key(report, d, &uri);
            let occurrence = seen.entry(key.clone()).or_insert(0);
            *occurrence += 1;
            let digest = Sha256::digest(format!("{key}\0{occurrence}").as_bytes());
            let fingerprint: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            let mut result = json!({
                "ruleId": d.rule.code,
                "ruleIndex": index,
                "level": level(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical}],
                "partialFingerprints": {"gasguard/v1": fingerprint},
            });
            if let Some((component, index)) = plugin_rule(d.rule.code) {
                result["ruleIndex"] = json!(index);
                result["rule"] = json!({
                    "id": d.rule.code,
                    "index": index,
                    "toolComponent": {"index": component},
                });
            }
            if let Some(reason) = suppression {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": reason,
                }]);
            }
            results.push(result);
        }
    }
    let root = std::env::current_dir()
        .map(|d| {
            format!(
                "file://{}/",
                uri_path(d.to_string_lossy().trim_end_matches('/'))
            )
        })
        .unwrap_or_else(|_| "file:///".into());
    let mut tool = json!({"driver": {
        "name": "gasguard",
        "version": env!("CARGO_PKG_VERSION"),
        "informationUri": env!("CARGO_PKG_REPOSITORY"),
        "rules": rule_objects,
    }});
    if !extensions.is_empty() {
        tool["extensions"] = json!(extensions);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": tool,
            "originalUriBaseIds": {SRCROOT: {"uri": root}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}
