//! The rule registry: every diagnostic gasguard can emit, with a stable code,
//! a default severity, a one-line summary and its documentation.
//!
//! Rules are declared per area (one file each) with [`declare_rules!`]; the doc
//! comment of each declaration *is* its documentation: `gasguard rules CODE`
//! prints it and `docs/rules/CODE.md` is generated from it (a test keeps the
//! two in step). Codes are a letter for the area plus a number, so a prefix
//! selects a family: `A` archive, `L` layout, `C` config, `P` Python code,
//! `W` weights, `R` runtime.

use crate::diagnostic::Severity;

/// Static description of one rule.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Markdown with "What it does / Why is this bad? / Example" sections.
    docs_raw: &'static str,
    /// Set for a plugin's rule: the plugin's name and its docs link.
    plugin: Option<PluginOrigin>,
}

/// Where a plugin's rule comes from (`src/plugins/`).
#[derive(Debug, Clone, Copy)]
pub struct PluginOrigin {
    pub plugin: &'static str,
    pub url: &'static str,
}

impl Rule {
    #[doc(hidden)]
    pub const fn new(
        code: &'static str,
        name: &'static str,
        severity: Severity,
        summary: &'static str,
        docs_raw: &'static str,
    ) -> Rule {
        Rule {
            code,
            name,
            severity,
            summary,
            docs_raw,
            plugin: None,
        }
    }

    /// A rule a plugin declares (built once per loaded plugin, for the
    /// process's life, so diagnostics can hold it as built-in ones do).
    pub fn from_plugin(
        code: &'static str,
        name: &'static str,
        severity: Severity,
        summary: &'static str,
        docs_raw: &'static str,
        origin: PluginOrigin,
    ) -> Rule {
        Rule {
            plugin: Some(origin),
            ..Rule::new(code, name, severity, summary, docs_raw)
        }
    }

    /// The plugin that declares this rule; `None` for gasguard's own.
    pub fn plugin(&self) -> Option<&'static str> {
        self.plugin.map(|o| o.plugin)
    }

    /// The documentation as Markdown (doc-comment indentation removed).
    pub fn docs(&self) -> String {
        let mut out = String::new();
        for line in self.docs_raw.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// Repository-relative path of the rule's generated docs page.
    pub fn docs_path(&self) -> String {
        format!("docs/rules/{}.md", self.code)
    }

    pub fn url(&self) -> String {
        if let Some(origin) = self.plugin {
            return origin.url.to_string();
        }
        format!("{}/{}", DOCS_BASE_URL, self.docs_path())
    }

    /// The full page written to `docs/rules/CODE.md`.
    pub fn docs_page(&self) -> String {
        format!(
            "# {code}: {name}\n\nDefault severity: **{sev}**. {summary}.\n\n{class}\n\n{docs}",
            code = self.code,
            name = self.name,
            sev = self.severity.as_str(),
            class = self.class_line(),
            summary = self.summary,
            docs = self.docs()
        )
    }
}

/// Where the docs pages are published; diagnostics link here. One setting:
/// `repository` in Cargo.toml.
pub const DOCS_BASE_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main");

/// Declares a list of rules, each a `pub static` with its doc comment kept as
/// the rule's documentation, plus `ALL` listing them in declaration order.
macro_rules! declare_rules {
    ($( $(#[doc = $doc:literal])* $id:ident = $code:literal, $name:literal, $sev:ident, $summary:literal; )*) => {
        $(
            $(#[doc = $doc])*
            pub static $id: $crate::rules::Rule = $crate::rules::Rule::new(
                $code,
                $name,
                $crate::diagnostic::Severity::$sev,
                $summary,
                concat!($($doc, "\n"),*),
            );
        )*
        pub static ALL: &[&$crate::rules::Rule] = &[$(&$id),*];
    };
}

pub mod archive;
pub mod class;
pub mod code;
pub mod config;
pub mod layout;
pub mod runtime;
pub mod weights;

/// Every rule, grouped by area in pipeline order.
pub fn all() -> impl Iterator<Item = &'static Rule> {
    [
        archive::ALL,
        layout::ALL,
        config::ALL,
        code::ALL,
        weights::ALL,
        runtime::ALL,
    ]
    .into_iter()
    .flat_map(|group| group.iter().copied())
}

/// Looks a rule up by code (case-insensitive) or by name.
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    all().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for rule in all() {
            assert!(codes.insert(rule.code), "duplicate code {}", rule.code);
            assert!(names.insert(rule.name), "duplicate name {}", rule.name);
            let (prefix, number) = rule.code.split_at(1);
            assert!(
                "ALCPWR".contains(prefix),
                "{}: unknown area prefix",
                rule.code
            );
            assert_eq!(
                number.len(),
                3,
                "{}: codes are a letter and three digits",
                rule.code
            );
            assert!(number.bytes().all(|b| b.is_ascii_digit()), "{}", rule.code);
        }
    }

    #[test]
    fn every_rule_documents_what_why_and_example() {
        for rule in all() {
            let docs = rule.docs();
            for section in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(docs.contains(section), "{} lacks {section:?}", rule.code);
            }
            assert!(
                !rule.summary.ends_with('.'),
                "{}: summary is a phrase",
                rule.code
            );
        }
    }
}
