//! `model.py`: decoded as CPython decodes it, parsed with ruff's parser
//! (which NFKC-normalises identifiers as CPython does), and checked against
//! the policy.

use crate::config::ConfigFacts;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::code as rules;

pub mod analyze;
pub mod decode;

/// Checks `model.py`; returns diagnostics and the decoded source (for
/// rendering), when it could be decoded.
pub fn check(
    file: &str,
    bytes: &[u8],
    policy: &Policy,
    facts: &ConfigFacts,
) -> (Vec<Diagnostic>, Option<String>) {
    let mut diags = Vec::new();
    let Some(source) = decode::decode(
        file,
        bytes,
        policy.limits.python_max_bytes,
        policy.limits.python_max_depth,
        &mut diags,
    ) else {
        return (diags, std::str::from_utf8(bytes).ok().map(str::to_string));
    };
    match ruff_python_parser::parse_module(&source) {
        Err(e) => {
            let start = usize::from(e.location.start());
            let end = usize::from(e.location.end());
            diags.push(
                Diagnostic::new(&rules::SYNTAX_ERROR, format!("syntax error: {}", e.error))
                    .in_file(file)
                    .at(start..end.max(start))
                    .help("fix the syntax; the evaluator's import of model.py would fail"),
            );
        }
        Ok(parsed) => diags.extend(analyze::analyze(file, parsed.syntax(), policy, facts)),
    }
    (diags, Some(source))
}
