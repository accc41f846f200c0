//! The interface `wit/gasguard-plugin.wit` declares, on gasguard's side:
//! the names looked up in a component, and the two JSON documents a plugin
//! returns, read strictly (unknown fields, codes the plugin did not
//! declare, spans outside their file: all refused, never guessed at).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::limits::{MAX_DIAGNOSTICS, MAX_RULES};
use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{PluginOrigin, Rule};

/// The WIT package, with the version that a change of either JSON schema bumps.
pub const PACKAGE: &str = "gasguard:plugin@1.0.0";
/// The exported interface, as a component names it.
pub const EXPORT: &str = "gasguard:plugin/policy@1.0.0";
pub const DESCRIBE: &str = "describe";
pub const CHECK: &str = "check";

/// Prefix of every plugin rule's code: `X-<plugin>-<code>`. No built-in
/// code starts with it (a letter and three digits), so none can collide.
pub const CODE_PREFIX: &str = "X-";

/// What a plugin says about itself (`describe`).
#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub rules: Vec<&'static Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInfo {
    name: String,
    version: String,
    #[serde(default)]
    url: Option<String>,
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: String,
    name: String,
    severity: String,
    summary: String,
    #[serde(default)]
    docs: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    diagnostics: Vec<RawDiagnostic>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiagnostic {
    code: String,
    message: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    help: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    span: Option<[usize; 2]>,
}

fn severity(text: &str) -> Result<Severity, String> {
    match text {
        "error" => Ok(Severity::Error),
        "warning" => Ok(Severity::Warning),
        "info" => Ok(Severity::Info),
        other => Err(format!("severity {other:?} is not error, warning or info")),
    }
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn is_plugin_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    (1..=32).contains(&name.len())
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-')
}

fn is_rule_code(code: &str) -> bool {
    (1..=8).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn one_line(text: &str, max: usize) -> bool {
    !text.trim().is_empty() && text.len() <= max && !text.contains(['\n', '\r'])
}

/// Reads `describe`'s document. The rules it declares live for the rest of
/// the process (a few per plugin, loaded once).
pub fn parse_info(json: &str) -> Result<PluginInfo, String> {
    let raw: RawInfo = serde_json::from_str(json).map_err(|e| {
        format!("`describe` returned JSON that is not {PACKAGE}'s plugin description: {e}")
    })?;
    if !is_plugin_name(&raw.name) {
        return Err(format!(
            "`describe` names the plugin {:?}: a name is 1 to 32 of a-z, 0-9 and -, starting with a letter",
            raw.name
        ));
    }
    if !one_line(&raw.version, 64) {
        return Err("`describe` gives no version (one line, at most 64 bytes)".into());
    }
    if raw.rules.is_empty() || raw.rules.len() > MAX_RULES {
        return Err(format!(
            "`describe` declares {} rules; a plugin declares 1 to {MAX_RULES}",
            raw.rules.len()
        ));
    }
    let url = match raw.url {
        Some(url) if one_line(&url, 2048) => url,
        Some(_) => return Err("`describe` gives an empty or multi-line `url`".into()),
        None => format!("{}/docs/plugins.md", crate::rules::DOCS_BASE_URL),
    };
    let origin = PluginOrigin {
        plugin: leak(raw.name.clone()),
        url: leak(url),
    };
    let mut seen = BTreeMap::new();
    let mut rules = Vec::new();
    for r in raw.rules {
        if !is_rule_code(&r.code) {
            return Err(format!(
                "rule code {:?}: a plugin's codes are 1 to 8 of A-Z and 0-9 (shown as {CODE_PREFIX}{}-CODE)",
                r.code, raw.name
            ));
        }
        if !is_plugin_name(&r.name) {
            return Err(format!(
                "rule {}: name {:?} is not 1 to 32 of a-z, 0-9 and -",
                r.code, r.name
            ));
        }
        if !one_line(&r.summary, 200) {
            return Err(format!(
                "rule {}: the summary is empty, multi-line or longer than 200 bytes",
                r.code
            ));
        }
        if r.docs.len() > 16 << 10 {
            return Err(format!("rule {}: docs longer than 16 KiB", r.code));
        }
        let level = severity(&r.severity).map_err(|e| format!("rule {}: {e}", r.code))?;
        if seen.insert(r.code.clone(), ()).is_some() {
            return Err(format!("rule code {} is declared twice", r.code));
        }
        let rule = Rule::from_plugin(
            leak(format!("{CODE_PREFIX}{}-{}", raw.name, r.code)),
            leak(r.name),
            level,
            leak(r.summary),
            leak(r.docs),
            origin,
        );
        rules.push(&*Box::leak(Box::new(rule)));
    }
    Ok(PluginInfo {
        name: raw.name,
        version: raw.version,
        rules,
    })
}

/// What `check` may point into: the submission's entries, and the text of
/// those gasguard read (a span needs one).
pub struct Targets<'a> {
    pub entries: &'a [String],
    pub sources: &'a BTreeMap<String, String>,
}

/// Reads `check`'s document into diagnostics of the plugin's own rules.
pub fn parse_output(
    json: &str,
    info: &PluginInfo,
    targets: &Targets,
) -> Result<Vec<Diagnostic>, String> {
    let raw: RawOutput = serde_json::from_str(json)
        .map_err(|e| format!("`check` returned JSON that is not {PACKAGE}'s diagnostics: {e}"))?;
    if raw.diagnostics.len() > MAX_DIAGNOSTICS {
        return Err(format!(
            "`check` returned {} diagnostics; the limit is {MAX_DIAGNOSTICS}",
            raw.diagnostics.len()
        ));
    }
    let mut out = Vec::new();
    for (i, d) in raw.diagnostics.into_iter().enumerate() {
        let at = |what: String| format!("`check` diagnostic #{i}: {what}");
        let code = format!("{CODE_PREFIX}{}-{}", info.name, d.code);
        let Some(rule) = info.rules.iter().find(|r| r.code == code) else {
            return Err(at(format!(
                "code {:?} is not one of the rules `describe` declared",
                d.code
            )));
        };
        if d.message.trim().is_empty() || d.message.len() > 4096 {
            return Err(at("the message is empty or longer than 4 KiB".into()));
        }
        let level = match d.severity {
            Some(text) => severity(&text).map_err(at)?,
            None => rule.severity,
        };
        let mut diag = Diagnostic::new(rule, d.message).severity(level);
        if let Some(help) = d.help {
            if help.len() > 4096 {
                return Err(at("the help is longer than 4 KiB".into()));
            }
            diag = diag.help(help);
        }
        match (d.file, d.span) {
            (None, None) => {}
            (None, Some(_)) => return Err(at("a span needs a file".into())),
            (Some(file), span) => {
                if !targets.entries.contains(&file) {
                    return Err(at(format!(
                        "file {file:?} is not an entry of the submission"
                    )));
                }
                if let Some([start, end]) = span {
                    let Some(text) = targets.sources.get(&file) else {
                        return Err(at(format!(
                            "a span in {file:?}, whose text gasguard did not read (spans point into model.py and model_config.yaml)"
                        )));
                    };
                    if start > end
                        || end > text.len()
                        || !text.is_char_boundary(start)
                        || !text.is_char_boundary(end)
                    {
                        return Err(at(format!(
                            "span [{start}, {end}] is not a byte range of {file:?} on character boundaries"
                        )));
                    }
                    diag = diag.at(start..end);
                }
                diag = diag.in_file(file);
            }
        }
        out.push(diag);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = r#"{"name": "budget", "version": "1.0.0", "rules": [
        {"code": "001", "name": "too-many-parameters", "severity": "error", "summary": "too many parameters"}]}"#;

    fn targets() -> (Vec<String>, BTreeMap<String, String>) {
        let entries = vec!["model.py".to_string(), "model.safetensors".to_string()];
        let sources =
            BTreeMap::from([("model.py".to_string(), "import torch\né = 1\n".to_string())]);
        (entries, sources)
    }

    #[test]
    fn plugin_codes_are_namespaced_and_cannot_name_built_in_rules() {
        let info = parse_info(INFO).expect("valid description");
        assert_eq!(info.rules[0].code, "X-budget-001");
        assert_eq!(info.rules[0].plugin(), Some("budget"));
        assert!(crate::rules::all().all(|r| !r.code.starts_with(CODE_PREFIX)));
        // A plugin returning a built-in code is refused, not mapped to it.
        let (entries, sources) = targets();
        let t = Targets {
            entries: &entries,
            sources: &sources,
        };
        let err = parse_output(
            r#"{"diagnostics": [{"code": "P101", "message": "m"}]}"#,
            &info,
            &t,
        )
        .expect_err("undeclared code");
        assert!(err.contains("not one of the rules"), "{err}");
        let err = parse_info(&INFO.replace("\"001\"", "\"p-101\"")).expect_err("bad code");
        assert!(err.contains("A-Z and 0-9"), "{err}");
    }

    /// docs/plugins.md carries wit/ verbatim, and the names gasguard looks
    /// up are the ones wit/ declares.
    #[test]
    fn docs_and_lookups_match_the_wit_file() {
        let wit = include_str!("../../wit/gasguard-plugin.wit");
        let docs = include_str!("../../docs/plugins.md");
        assert!(
            docs.contains(wit),
            "docs/plugins.md lacks the current wit/gasguard-plugin.wit"
        );
        assert!(wit.contains(&format!("package {PACKAGE};")));
        let (package, version) = PACKAGE.split_once('@').expect("versioned");
        assert_eq!(EXPORT, format!("{package}/policy@{version}"));
        assert!(wit.contains("interface policy {") && wit.contains("export policy;"));
        assert!(wit.contains(&format!("{DESCRIBE}: func() -> string;")));
        assert!(wit.contains(&format!("{CHECK}: func(facts: string) -> string;")));
    }

    #[test]
    fn spans_must_fall_inside_a_file_gasguard_read() {
        let info = parse_info(INFO).expect("valid description");
        let (entries, sources) = targets();
        let t = Targets {
            entries: &entries,
            sources: &sources,
        };
        let ok = parse_output(
            r#"{"diagnostics": [{"code": "001", "message": "m", "file": "model.py", "span": [0, 6], "severity": "warning"}]}"#,
            &info,
            &t,
        )
        .expect("valid output");
        assert_eq!(
            (ok[0].span.clone(), ok[0].severity),
            (Some(0..6), Severity::Warning)
        );
        for (bad, why) in [
            (
                r#"{"file": "model.py", "span": [0, 99]}"#,
                "not a byte range",
            ),
            (
                r#"{"file": "model.py", "span": [14, 15]}"#,
                "not a byte range",
            ),
            (
                r#"{"file": "model.safetensors", "span": [0, 1]}"#,
                "did not read",
            ),
            (r#"{"file": "other.py"}"#, "not an entry"),
            (r#"{"span": [0, 1]}"#, "needs a file"),
        ] {
            let doc = format!(
                r#"{{"diagnostics": [{{"code": "001", "message": "m", {}}}]}}"#,
                &bad[1..bad.len() - 1]
            );
            let err = parse_output(&doc, &info, &t).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
        let err = parse_output(r#"{"diagnostics": [], "extra": 1}"#, &info, &t)
            .expect_err("unknown field");
        assert!(err.contains("unknown field"), "{err}");
    }
}
