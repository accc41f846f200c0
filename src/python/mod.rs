//! `model.py`: decoded as CPython decodes it, parsed with ruff's parser, and
//! checked against the policy.

use crate::config::ConfigFacts;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::code as rules;

/// Checks `model.py`; returns diagnostics and the decoded source (for
/// rendering), when it could be decoded.
pub fn check(
    file: &str,
    bytes: &[u8],
    _policy: &Policy,
    _facts: &ConfigFacts,
) -> (Vec<Diagnostic>, Option<String>) {
    let mut diags = Vec::new();
    let Ok(source) = std::str::from_utf8(bytes) else {
        diags.push(
            Diagnostic::new(&rules::SYNTAX_ERROR, "model.py is not valid UTF-8").in_file(file),
        );
        return (diags, None);
    };
    if let Err(e) = ruff_python_parser::parse_module(source) {
        let start = usize::from(e.location.start());
        let end = usize::from(e.location.end());
        diags.push(
            Diagnostic::new(&rules::SYNTAX_ERROR, format!("syntax error: {}", e.error))
                .in_file(file)
                .at(start..end.max(start))
                .help("fix the syntax; the evaluator's import of model.py would fail"),
        );
    }
    (diags, Some(source.to_string()))
}
