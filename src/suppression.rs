//! Ignored hardening rules: their findings leave the verdict but stay in
//! the report, marked suppressed with the repository's reason. The ignores
//! come from the repository's settings (`settings/`); this module is the
//! part the pipeline (`check`) applies, and depends on neither.

use crate::diagnostic::Diagnostic;
use crate::rules::{Rule, class::RuleClass};

/// One `[[ignore]]` entry, validated: a hardening rule and a reason.
#[derive(Clone, Debug)]
pub struct Ignore {
    pub rule: &'static Rule,
    pub reason: String,
}

/// A finding an `[[ignore]]` entry took out of the verdict.
#[derive(Clone, Debug)]
pub struct Suppressed {
    pub diagnostic: Diagnostic,
    pub reason: String,
}

/// Splits `diags` into the findings that count and the suppressed ones.
/// Policy rules are never suppressed, whatever `ignores` holds (settings
/// refuse them already; this is the second lock).
pub fn apply(ignores: &[Ignore], diags: Vec<Diagnostic>) -> (Vec<Diagnostic>, Vec<Suppressed>) {
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for d in diags {
        let matching = ignores
            .iter()
            .find(|i| i.rule.code == d.rule.code && d.rule.class() == RuleClass::Hardening);
        match matching {
            Some(i) => suppressed.push(Suppressed {
                diagnostic: d,
                reason: i.reason.clone(),
            }),
            None => kept.push(d),
        }
    }
    (kept, suppressed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules;

    #[test]
    fn policy_rules_are_never_suppressed_even_if_asked() {
        let ignores = vec![
            Ignore {
                rule: &rules::code::IMPORT_NOT_ALLOWED,
                reason: "forced".into(),
            },
            Ignore {
                rule: &rules::layout::UNUSED_FILE,
                reason: "docs live beside the model".into(),
            },
        ];
        let diags = vec![
            Diagnostic::new(&rules::code::IMPORT_NOT_ALLOWED, "os"),
            Diagnostic::new(&rules::layout::UNUSED_FILE, "README.md"),
        ];
        let (kept, suppressed) = apply(&ignores, diags);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule.code, "P101");
        assert_eq!(suppressed.len(), 1);
        assert_eq!(suppressed[0].diagnostic.rule.code, "L009");
        assert_eq!(suppressed[0].reason, "docs live beside the model");
    }
}
