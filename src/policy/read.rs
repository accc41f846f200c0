//! Reading the policy: the embedded `rules/sn34.yaml` (from its build-time
//! JSON form) or a `--policy FILE`. Loading validates the whole file and
//! reports every problem with its location in the policy file, as cargo-deny
//! does.

use std::ops::Range;
use std::path::Path;

use super::{Api, ApiCondition, BlockedModule, Limits, Policy, Reasoned};
use crate::yaml::{self, Node, Value, YamlLimits};

/// The policy shipped with gasguard.
pub const BUILTIN_POLICY: &str = include_str!("../../rules/sn34.yaml");
/// The same, parsed at build time (build.rs) into JSON.
const BUILTIN_POLICY_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/sn34.json"));

/// A YAML tree from JSON (no spans: only the built-in policy takes this path).
fn from_json(v: &serde_json::Value) -> Node {
    use serde_json::Value as J;
    let value = match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
        J::String(s) => Value::Str(s.clone()),
        J::Array(items) => Value::Seq(items.iter().map(from_json).collect()),
        J::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| {
                    (
                        Node {
                            value: Value::Str(k.clone()),
                            span: 0..0,
                            plain: None,
                        },
                        from_json(v),
                    )
                })
                .collect(),
        ),
    };
    Node {
        value,
        span: 0..0,
        plain: None,
    }
}
pub const BUILTIN_POLICY_NAME: &str = "rules/sn34.yaml (built in)";

/// Why a policy file was refused: every problem, each with its place.
#[derive(Debug)]
pub struct PolicyError {
    pub origin: String,
    pub source: String,
    pub problems: Vec<(Range<usize>, String)>,
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid policy {}: ", self.origin)?;
        let mut first = true;
        for (span, message) in &self.problems {
            let (line, col) = crate::diagnostic::line_column(&self.source, span.start);
            if !first {
                write!(f, "; ")?;
            }
            first = false;
            write!(f, "{line}:{col}: {message}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

impl Policy {
    /// The embedded policy, from its build-time JSON form (the same tree the
    /// YAML reader produces, without the cost of reading YAML at every start).
    pub fn builtin() -> Policy {
        let parsed = serde_json::from_str::<serde_json::Value>(BUILTIN_POLICY_JSON)
            .ok()
            .filter(|v| !v.is_null())
            .and_then(|v| {
                let mut r = Reader::default();
                let p = r.policy(&from_json(&v));
                p.filter(|_| r.problems.is_empty())
            });
        match parsed {
            Some(policy) => policy,
            // Fall back to the YAML itself, whose errors carry locations.
            None => match Policy::parse(BUILTIN_POLICY, BUILTIN_POLICY_NAME) {
                Ok(policy) => policy,
                // The built-in policy is tested; failing here is a build defect.
                Err(e) => panic!("built-in policy is invalid: {e}"),
            },
        }
    }

    pub fn load(path: &Path) -> Result<Policy, anyhow::Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read policy file {}: {e}", path.display()))?;
        let source = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("policy file {} is not valid UTF-8", path.display()))?;
        Ok(Policy::parse(&source, &path.display().to_string())?)
    }

    pub fn parse(source: &str, origin: &str) -> Result<Policy, PolicyError> {
        let fail = |problems| PolicyError {
            origin: origin.to_string(),
            source: source.to_string(),
            problems,
        };
        let doc = yaml::parse(
            source,
            &YamlLimits {
                max_depth: 16,
                max_nodes: 100_000,
            },
        );
        if !doc.problems.is_empty() {
            let problems = doc
                .problems
                .iter()
                .map(|p| match p {
                    yaml::Problem::Syntax { span, message }
                    | yaml::Problem::Tag { span, message }
                    | yaml::Problem::AliasBudget { span, message } => {
                        (span.clone(), message.clone())
                    }
                    yaml::Problem::DuplicateKey { span, key, .. } => {
                        (span.clone(), format!("duplicate key `{key}`"))
                    }
                })
                .collect();
            return Err(fail(problems));
        }
        let Some(root) = doc.root else {
            return Err(fail(vec![(0..0, "the policy file is empty".into())]));
        };
        let mut r = Reader::default();
        let policy = r.policy(&root);
        match policy {
            Some(p) if r.problems.is_empty() => Ok(p),
            _ => Err(fail(r.problems)),
        }
    }
}

/// Walks the YAML tree, collecting every problem instead of stopping at one.
#[derive(Default)]
struct Reader {
    problems: Vec<(Range<usize>, String)>,
}

impl Reader {
    fn problem(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.problems.push((span.clone(), message.into()));
    }

    /// The mapping's entries, reporting keys outside `known`.
    fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<&'n [(Node, Node)]> {
        let Some(entries) = node.as_map() else {
            self.problem(
                &node.span,
                format!("`{what}` must be a mapping, found {}", node.type_name()),
            );
            return None;
        };
        for (k, _) in entries {
            match k.as_str() {
                Some(key) if known.contains(&key) => {}
                _ => self.problem(
                    &k.span,
                    format!(
                        "unknown key `{}` in `{what}` (expected one of: {})",
                        k.plain
                            .clone()
                            .unwrap_or_else(|| k.as_str().unwrap_or("?").to_string()),
                        known.join(", ")
                    ),
                ),
            }
        }
        Some(entries)
    }

    fn required<'n>(&mut self, node: &'n Node, parent: &str, key: &str) -> Option<&'n Node> {
        match node.get(key) {
            Some((_, v)) => Some(v),
            None => {
                self.problem(&node.span, format!("`{parent}` is missing the key `{key}`"));
                None
            }
        }
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str(s) if !s.is_empty() => Some(s.clone()),
            _ => {
                self.problem(
                    &node.span,
                    format!(
                        "`{what}` must be a non-empty string, found {}",
                        node.type_name()
                    ),
                );
                None
            }
        }
    }

    fn strings(&mut self, node: &Node, what: &str) -> Vec<String> {
        let Value::Seq(items) = &node.value else {
            self.problem(
                &node.span,
                format!(
                    "`{what}` must be a list of strings, found {}",
                    node.type_name()
                ),
            );
            return Vec::new();
        };
        items
            .iter()
            .filter_map(|item| self.dotted(item, what))
            .collect()
    }

    /// A dotted Python name (`torch.utils.cpp_extension`).
    fn dotted(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.string(node, what)?;
        let valid = s.split('.').all(|part| {
            !part.is_empty()
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !part.starts_with(|c: char| c.is_ascii_digit())
        });
        if !valid {
            self.problem(
                &node.span,
                format!("`{s}` in `{what}` is not a dotted Python name"),
            );
            return None;
        }
        Some(s)
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<u64> {
        match node.value {
            Value::Int(i) if i > 0 => Some(i as u64),
            _ => {
                self.problem(
                    &node.span,
                    format!(
                        "`{what}` must be a positive integer, found {}",
                        node.type_name()
                    ),
                );
                None
            }
        }
    }

    /// A list of `{name, reason}` (`methods`, `settings`).
    fn reasoned_list(&mut self, node: &Node, what: &str) -> Vec<Reasoned> {
        let Value::Seq(items) = &node.value else {
            self.problem(
                &node.span,
                format!("`{what}` must be a list of {{name, reason}}"),
            );
            return Vec::new();
        };
        let item_what = format!("{what}[]");
        let mut list = Vec::new();
        for item in items {
            if self.map(item, &item_what, &["name", "reason"]).is_none() {
                continue;
            }
            let reason = self.reason(item);
            if let Some(name) = self
                .required(item, &item_what, "name")
                .and_then(|n| self.dotted(n, "name"))
            {
                list.push(Reasoned { name, reason });
            }
        }
        list
    }

    fn policy(&mut self, root: &Node) -> Option<Policy> {
        self.map(
            root,
            "policy",
            &[
                "schema",
                "name",
                "modules",
                "calls",
                "submodules",
                "apis",
                "methods",
                "settings",
                "limits",
            ],
        )?;
        if let Some(schema) = self.required(root, "policy", "schema")
            && schema.value != Value::Int(1)
        {
            self.problem(
                &schema.span,
                "unsupported policy `schema`: this gasguard reads schema 1",
            );
        }
        let name = self
            .required(root, "policy", "name")
            .and_then(|n| self.string(n, "name"));

        let modules = self.required(root, "policy", "modules");
        let mut allowed = Vec::new();
        let mut blocked = Vec::new();
        if let Some(modules) = modules {
            self.map(modules, "modules", &["allowed", "blocked"]);
            if let Some(a) = self.required(modules, "modules", "allowed") {
                allowed = self.strings(a, "modules.allowed");
            }
            if let Some(b) = self.required(modules, "modules", "blocked") {
                blocked = self.blocked_modules(b);
            }
        }

        let mut blocked_calls = Vec::new();
        if let Some(calls) = self.required(root, "policy", "calls") {
            self.map(calls, "calls", &["blocked"]);
            if let Some(Value::Seq(groups)) =
                self.required(calls, "calls", "blocked").map(|n| &n.value)
            {
                for group in groups {
                    if self
                        .map(group, "calls.blocked[]", &["names", "reason"])
                        .is_none()
                    {
                        continue;
                    }
                    let reason = self.reason(group);
                    if let Some(names) = self.required(group, "calls.blocked[]", "names") {
                        for name in self.strings(names, "calls.blocked[].names") {
                            blocked_calls.push(Reasoned {
                                name,
                                reason: reason.clone(),
                            });
                        }
                    }
                }
            }
        }

        let mut blocked_submodules = Vec::new();
        if let Some(subs) = self.required(root, "policy", "submodules") {
            self.map(subs, "submodules", &["blocked"]);
            if let Some(Value::Seq(items)) = self
                .required(subs, "submodules", "blocked")
                .map(|n| &n.value)
            {
                for item in items {
                    if self
                        .map(item, "submodules.blocked[]", &["name", "reason"])
                        .is_none()
                    {
                        continue;
                    }
                    let reason = self.reason(item);
                    if let Some(name) = self
                        .required(item, "submodules.blocked[]", "name")
                        .and_then(|n| self.dotted(n, "name"))
                    {
                        blocked_submodules.push(Reasoned { name, reason });
                    }
                }
            }
        }

        let mut apis = Vec::new();
        if let Some(Value::Seq(items)) = self.required(root, "policy", "apis").map(|n| &n.value) {
            for item in items {
                if self
                    .map(item, "apis[]", &["name", "when", "reason", "unproven"])
                    .is_none()
                {
                    continue;
                }
                let reason = self.reason(item);
                let name = self
                    .required(item, "apis[]", "name")
                    .and_then(|n| self.dotted(n, "name"));
                let when = self
                    .required(item, "apis[]", "when")
                    .and_then(|w| self.condition(w));
                let unproven_warns = match item.get("unproven") {
                    None => false,
                    Some((_, v)) => match self.string(v, "unproven").as_deref() {
                        Some("warning") => true,
                        Some("error") => false,
                        _ => {
                            self.problem(&v.span, "`unproven` must be `warning` or `error`");
                            false
                        }
                    },
                };
                if let (Some(name), Some(when)) = (name, when) {
                    apis.push(Api {
                        name,
                        when,
                        reason,
                        unproven_warns,
                    });
                }
            }
        }
        let methods = match self.required(root, "policy", "methods") {
            Some(node) => self.reasoned_list(node, "methods"),
            None => Vec::new(),
        };
        // Optional: a policy without it lets no library attribute be assigned.
        let settings = match root.get("settings") {
            Some((_, node)) => self.reasoned_list(node, "settings"),
            None => Vec::new(),
        };
        let limits = self
            .required(root, "policy", "limits")
            .and_then(|l| self.limits(l));
        Some(Policy {
            apis,
            methods,
            settings,
            name: name?,
            allowed_modules: allowed,
            blocked_modules: blocked,
            blocked_calls,
            blocked_submodules,
            limits: limits?,
        })
    }

    fn condition(&mut self, node: &Node) -> Option<ApiCondition> {
        if let Some(text) = node.as_str() {
            return match text {
                "always" => Some(ApiCondition::Always),
                "remote_source" => Some(ApiCondition::RemoteSource),
                "url_argument" => Some(ApiCondition::UrlArgument),
                "workers" => Some(ApiCondition::Workers),
                "write_mode" => Some(ApiCondition::WriteMode),
                other if other.starts_with("kwarg_true:") => Some(ApiCondition::KwargTrue(
                    other["kwarg_true:".len()..].trim().to_string(),
                )),
                other if other.starts_with("arg_prefix:") => {
                    let spec = other["arg_prefix:".len()..].trim();
                    match spec.split_once('=') {
                        Some((param, prefixes))
                            if !param.trim().is_empty() && !prefixes.trim().is_empty() =>
                        {
                            Some(ApiCondition::ArgPrefix {
                                param: param.trim().to_string(),
                                prefixes: prefixes
                                    .split(',')
                                    .map(|p| p.trim().to_string())
                                    .collect(),
                            })
                        }
                        _ => {
                            self.problem(
                                &node.span,
                                "`arg_prefix` needs `PARAM=PREFIX[,PREFIX...]`",
                            );
                            None
                        }
                    }
                }
                other if other.starts_with("namespaces:") => Some(ApiCondition::Namespaces(
                    other["namespaces:".len()..]
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect(),
                )),
                other if other.starts_with("string_code:") => {
                    let spec = other["string_code:".len()..].trim();
                    match spec.split_once(',') {
                        Some((param, namespace))
                            if !param.trim().is_empty() && !namespace.trim().is_empty() =>
                        {
                            Some(ApiCondition::StringCode {
                                param: param.trim().to_string(),
                                namespace: namespace.trim().to_string(),
                            })
                        }
                        _ => {
                            self.problem(&node.span, "`string_code` needs `PARAM,NAMESPACE_PARAM`");
                            None
                        }
                    }
                }
                other if other.starts_with("own_code:") => Some(ApiCondition::OwnCode(
                    other["own_code:".len()..].trim().to_string(),
                )),
                other if other.starts_with("local_path:") => Some(ApiCondition::LocalPath(
                    other["local_path:".len()..].trim().to_string(),
                )),
                other if other.starts_with("unless_true:") => Some(ApiCondition::UnlessTrue(
                    other["unless_true:".len()..].trim().to_string(),
                )),
                other if other.starts_with("kwarg_not_false:") => {
                    Some(ApiCondition::KwargNotFalse(
                        other["kwarg_not_false:".len()..].trim().to_string(),
                    ))
                }
                other => {
                    self.problem(&node.span, format!("unknown condition `{other}`"));
                    None
                }
            };
        }
        if let Some([(k, v)]) = node.as_map() {
            let arg = self.string(v, "when")?;
            return match k.as_str() {
                Some("kwarg_true") => Some(ApiCondition::KwargTrue(arg)),
                Some("kwarg_not_false") => Some(ApiCondition::KwargNotFalse(arg)),
                Some("unless_true") => Some(ApiCondition::UnlessTrue(arg)),
                _ => {
                    self.problem(
                        &k.span,
                        "unknown condition (expected kwarg_true, kwarg_not_false or unless_true)",
                    );
                    None
                }
            };
        }
        self.problem(
            &node.span,
            "`when` must be a condition name or `kwarg_true: NAME`",
        );
        None
    }

    fn reason(&mut self, node: &Node) -> String {
        match node.get("reason") {
            Some((_, r)) => self.string(r, "reason").unwrap_or_default(),
            None => String::new(),
        }
    }

    fn blocked_modules(&mut self, node: &Node) -> Vec<BlockedModule> {
        let Value::Seq(groups) = &node.value else {
            self.problem(&node.span, "`modules.blocked` must be a list of groups");
            return Vec::new();
        };
        let mut out = Vec::new();
        for group in groups {
            if self
                .map(
                    group,
                    "modules.blocked[]",
                    &["category", "reason", "modules"],
                )
                .is_none()
            {
                continue;
            }
            let category = self
                .required(group, "modules.blocked[]", "category")
                .and_then(|c| self.string(c, "category"))
                .unwrap_or_default();
            let reason = self.reason(group);
            if let Some(mods) = self.required(group, "modules.blocked[]", "modules") {
                for name in self.strings(mods, "modules.blocked[].modules") {
                    out.push(BlockedModule {
                        name,
                        category: category.clone(),
                        reason: reason.clone(),
                    });
                }
            }
        }
        out
    }

    fn limits(&mut self, node: &Node) -> Option<Limits> {
        self.map(
            node,
            "limits",
            &["archive", "config", "preprocessing", "weights", "python"],
        )?;
        let section = |this: &mut Reader, name: &str, keys: &[&str]| -> Vec<Option<u64>> {
            let Some(sec) = this.required(node, "limits", name) else {
                return vec![None; keys.len()];
            };
            this.map(sec, &format!("limits.{name}"), keys);
            keys.iter()
                .map(|k| {
                    let what = format!("limits.{name}.{k}");
                    this.required(sec, &format!("limits.{name}"), k)
                        .and_then(|v| this.number(v, &what))
                })
                .collect()
        };
        let archive = section(
            self,
            "archive",
            &[
                "max_total_bytes",
                "max_entries",
                "max_ratio",
                "max_text_file_bytes",
            ],
        );
        let config = section(
            self,
            "config",
            &["max_bytes", "max_depth", "max_alias_expansion"],
        );
        let pre = section(self, "preprocessing", &["max_side", "max_frames"]);
        let weights = section(self, "weights", &["max_header_bytes"]);
        let python = section(self, "python", &["max_bytes", "max_depth"]);
        Some(Limits {
            archive_max_total_bytes: archive[0]?,
            archive_max_entries: archive[1]?,
            archive_max_ratio: archive[2]?,
            max_text_file_bytes: archive[3]?,
            config_max_bytes: config[0]?,
            config_max_depth: config[1]?,
            config_max_alias_expansion: config[2]?,
            max_side: pre[0]?,
            max_frames: pre[1]?,
            weights_max_header_bytes: weights[0]?,
            python_max_bytes: python[0]?,
            python_max_depth: python[1]?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_time_form_equals_the_yaml() {
        let from_yaml = Policy::parse(BUILTIN_POLICY, BUILTIN_POLICY_NAME).expect("yaml");
        assert_eq!(format!("{:?}", Policy::builtin()), format!("{from_yaml:?}"));
        assert_ne!(
            BUILTIN_POLICY_JSON, "null",
            "build.rs could not read rules/sn34.yaml"
        );
    }

    #[test]
    fn a_malformed_policy_points_at_every_bad_key() {
        let broken = BUILTIN_POLICY
            .replace("max_entries: 1000", "max_entrys: 1000")
            .replace("name: sn34", "name: 5");
        let err = Policy::parse(&broken, "test.yaml").expect_err("must fail");
        let messages: Vec<_> = err.problems.iter().map(|(_, m)| m.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("unknown key `max_entrys`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`name` must be a non-empty string")),
            "{messages:?}"
        );
        let (span, _) = &err.problems[0];
        assert!(
            broken[span.clone()].starts_with("5") || broken[span.clone()].starts_with("max_entrys")
        );
    }
}
