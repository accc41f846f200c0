//! Which rules a repository may ignore, and which ones are security findings.
//!
//! Two classes, as the gate needs them. A **policy** rule restates what the
//! network enforces (the evaluator's loader, its published import and call
//! policy, the safetensors format), or keeps gasguard's reading of the
//! submission the same as the evaluator's so that the published policy
//! cannot be evaded (archive tricks, code gasguard cannot follow): ignoring
//! one would let a repository silence the network's own verdict, so
//! configuration cannot. A **hardening** rule is gasguard's own caution
//! beyond that; a repository may ignore it, with a written reason that
//! stays in the JSON and SARIF reports.
//!
//! Fail closed: a rule is a policy rule unless it is listed here.

use super::Rule;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleClass {
    Policy,
    Hardening,
}

impl RuleClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleClass::Policy => "policy",
            RuleClass::Hardening => "hardening",
        }
    }
}

/// Rules a repository may ignore (with a reason), each with why that is safe.
pub const HARDENING: &[(&str, &str)] = &[
    ("A015", "a nested archive is never opened by the evaluator"),
    (
        "L003",
        "the wrapping folder is a layout choice the evaluator may accept",
    ),
    (
        "L004",
        "native files are inert unless imported, and imports are policy rules",
    ),
    (
        "L006",
        "scripts are inert unless run, and nothing in the evaluator runs them",
    ),
    (
        "L007",
        "extra modules cannot be imported (relative imports are a policy rule)",
    ),
    ("L009", "unused files are inert"),
    ("C005", "a YAML 1.1 reading the author has checked"),
    ("C011", "a legacy class count the evaluator still scores"),
    (
        "C013",
        "dtype under model: is passed to load_model as the author intends",
    ),
    ("C019", "keys the evaluator does not read"),
    ("P004", "non-ASCII identifiers CPython accepts"),
    ("P005", "gasguard's own size and nesting bounds"),
    (
        "P006",
        "syntax newer than the minimum Python, for an evaluator known to be newer",
    ),
    ("P105", "open() for reading a file the submission ships"),
    (
        "P108",
        "an allowed library's API that gasguard judges risky; not in the published lists",
    ),
    ("P110", "import-time code the author has reviewed"),
    (
        "P115",
        "a possible download the sandbox run settles; it cannot run code",
    ),
    ("P116", "a note on code that never runs"),
    ("W010", "a weights dtype the model casts on load"),
    ("W011", "a model whose weights are all computed"),
    ("R001", "static checks alone, in a job without torch"),
    ("R004", "parameters built in code rather than loaded"),
    ("R008", "nondeterminism the author accepts"),
    ("R009", "batch-dependent layers the author accepts"),
    ("R014", "the runtime summary"),
];

/// Security findings (GitHub code scanning's `security-severity`, 0-10):
/// what would let a submission run code, reach the host or hide content.
const SECURITY: &[(&str, &str)] = &[
    ("A005", "9.0"),
    ("A006", "9.0"),
    ("A007", "7.5"),
    ("A008", "7.5"),
    ("A009", "7.5"),
    ("A010", "7.5"),
    ("A011", "7.5"),
    ("A014", "6.5"),
    ("A015", "5.0"),
    ("A017", "7.5"),
    ("L004", "8.0"),
    ("L005", "9.0"),
    ("L006", "7.0"),
    ("L010", "9.0"),
    ("C002", "8.0"),
    ("C003", "6.5"),
    ("P003", "7.0"),
    ("P101", "9.0"),
    ("P103", "9.0"),
    ("P104", "9.0"),
    ("P105", "5.0"),
    ("P106", "9.0"),
    ("P107", "9.0"),
    ("P108", "8.0"),
    ("P111", "7.0"),
    ("P112", "7.0"),
    ("P113", "8.0"),
    ("R012", "9.5"),
];

impl Rule {
    pub fn class(&self) -> RuleClass {
        if HARDENING.iter().any(|(code, _)| *code == self.code) {
            RuleClass::Hardening
        } else {
            RuleClass::Policy
        }
    }

    /// The sentence each docs page carries about its class.
    pub fn class_line(&self) -> String {
        match HARDENING.iter().find(|(code, _)| *code == self.code) {
            Some((_, why)) => format!(
                "Class: **hardening**. A repository may ignore it in `gasguard.toml`, with a reason ({why})."
            ),
            None => "Class: **policy**. It restates or protects what the network enforces; configuration cannot ignore it.".to_string(),
        }
    }

    /// GitHub's `security-severity` for security rules, `None` otherwise.
    pub fn security_severity(&self) -> Option<&'static str> {
        SECURITY
            .iter()
            .find(|(code, _)| *code == self.code)
            .map(|(_, score)| *score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_code_is_a_rule() {
        for (code, why) in HARDENING {
            assert!(super::super::find(code).is_some(), "{code} is not a rule");
            assert!(!why.is_empty());
        }
        for (code, score) in SECURITY {
            assert!(super::super::find(code).is_some(), "{code} is not a rule");
            let value: f64 = score.parse().expect("a number");
            assert!((0.0..=10.0).contains(&value), "{code}: {score}");
        }
    }

    #[test]
    fn the_published_lists_are_policy_rules() {
        // The network's published import and call lists, its loader and the
        // safetensors format: never ignorable.
        for code in [
            "P101", "P103", "P104", "P109", "L001", "C008", "W003", "R012",
        ] {
            let rule = super::super::find(code).expect("rule");
            assert_eq!(rule.class(), RuleClass::Policy, "{code}");
        }
    }
}
