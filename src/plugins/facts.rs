//! The facts document a plugin's `check` receives: what gasguard already
//! computed for one submission, as JSON (schema in docs/plugins.md).

use serde_json::{Value, json};

use super::interface::PACKAGE;
use crate::check::SubmissionReport;
use crate::config::Modality;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::submission::layout::{CONFIG_FILE, MODEL_FILE};
use crate::yaml;

/// A YAML node with its byte span: `{"span": [start, end], "value": ...}`,
/// where a mapping's value is a list of `{"key": node, "value": node}`
/// (YAML keys need not be strings) and a sequence's a list of nodes.
fn spanned(node: &yaml::Node) -> Value {
    let value = match &node.value {
        yaml::Value::Null => Value::Null,
        yaml::Value::Bool(b) => json!(b),
        yaml::Value::Int(i) => json!(i),
        yaml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        yaml::Value::Str(s) | yaml::Value::BigInt(s) | yaml::Value::Timestamp(s) => json!(s),
        yaml::Value::Seq(items) => Value::Array(items.iter().map(spanned).collect()),
        yaml::Value::Map(entries) => Value::Array(
            entries
                .iter()
                .map(|(k, v)| json!({"key": spanned(k), "value": spanned(v)}))
                .collect(),
        ),
    };
    let kind = match &node.value {
        yaml::Value::Seq(_) => "seq",
        yaml::Value::Map(_) => "map",
        _ => "scalar",
    };
    json!({"kind": kind, "span": [node.span.start, node.span.end], "value": value})
}

/// The file a report holds the text of, by its base name.
fn source_named<'a>(report: &'a SubmissionReport, base: &str) -> Option<(&'a String, &'a String)> {
    report
        .sources
        .iter()
        .find(|(name, _)| name.rsplit('/').next() == Some(base))
}

fn finding(d: &Diagnostic) -> Value {
    json!({
        "code": d.rule.code,
        "severity": d.severity,
        "message": d.message,
        "file": d.file,
        "span": d.span.as_ref().map(|s| [s.start, s.end]),
    })
}

/// The facts of one submission, with gasguard's findings so far.
pub fn document(
    report: &SubmissionReport,
    findings: &[Diagnostic],
    policy: &Policy,
    modality: Option<Modality>,
) -> String {
    let config = source_named(report, CONFIG_FILE).map(|(file, text)| {
        let tree = yaml::parse(text, &policy.yaml_limits())
            .root
            .map(|root| spanned(&root));
        json!({"file": file, "tree": tree, "facts": report.config})
    });
    let code = report.code.as_ref().map(|inventory| {
        let file = source_named(report, MODEL_FILE).map(|(name, _)| name);
        json!({
            "file": file,
            "imports": inventory.imports,
            "calls": inventory.calls,
            "sites": inventory.sites,
        })
    });
    let weights: Vec<Value> = report
        .weights
        .iter()
        .map(|w| {
            json!({
                "file": w.file,
                "parameters": w.parameters,
                "total_bytes": w.total_bytes,
                "dtypes": w.dtypes,
                "tensors": w.tensor_list,
            })
        })
        .collect();
    let modality = modality.or_else(|| report.config.as_ref().and_then(|c| c.modality));
    let doc = json!({
        "interface": PACKAGE,
        "gasguard": env!("CARGO_PKG_VERSION"),
        "submission": {"kind": if report.is_zip { "zip" } else { "directory" }},
        "modality": modality,
        "entries": report.entries,
        "config": config,
        "code": code,
        "weights": weights,
        "runtime": report.runtime,
        "findings": findings.iter().map(finding).collect::<Vec<_>>(),
    });
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the facts is documented in docs/plugins.md's table.
    #[test]
    fn every_fact_is_documented() {
        let report = SubmissionReport {
            path: "x".into(),
            is_zip: false,
            diagnostics: Vec::new(),
            sources: Default::default(),
            config: None,
            weights: Vec::new(),
            runtime: None,
            code: None,
            entries: Vec::new(),
            suppressed: Vec::new(),
            plugins: Vec::new(),
        };
        let doc: Value = serde_json::from_str(&document(&report, &[], &Policy::builtin(), None))
            .expect("facts are JSON");
        let docs = include_str!("../../docs/plugins.md");
        let keys: Vec<&String> = doc.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 10);
        for key in keys {
            assert!(
                docs.contains(&format!("| `{key}` |")),
                "docs/plugins.md lacks `{key}`"
            );
        }
    }
}
