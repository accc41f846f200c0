//! `model.py`: decoded as CPython decodes it, parsed with ruff's parser
//! (which NFKC-normalises identifiers as CPython does), and checked against
//! the policy.

use crate::config::ConfigFacts;
use crate::diagnostic::Diagnostic;
use crate::policy::Policy;
use crate::rules::code as rules;

pub mod analyze;
pub mod decode;

pub use analyze::CodeInventory;

/// What checking model.py found.
#[derive(Debug, Default)]
pub struct CodeCheck {
    pub diagnostics: Vec<Diagnostic>,
    /// The decoded source (for rendering snippets), when it could be decoded.
    pub source: Option<String>,
    /// Imports and calls, when the file parsed.
    pub inventory: Option<CodeInventory>,
}

/// Checks `model.py`.
pub fn check(file: &str, bytes: &[u8], policy: &Policy, facts: &ConfigFacts) -> CodeCheck {
    let mut diags = Vec::new();
    let Some(source) = decode::decode(
        file,
        bytes,
        policy.limits.python_max_bytes,
        policy.limits.python_max_depth,
        &mut diags,
    ) else {
        return CodeCheck {
            diagnostics: diags,
            source: std::str::from_utf8(bytes).ok().map(str::to_string),
            inventory: None,
        };
    };
    let mut inventory = None;
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
        Ok(parsed) => {
            let (found, seen) = analyze::analyze(file, parsed.syntax(), policy, facts);
            diags.extend(found);
            inventory = Some(seen);
        }
    }
    CodeCheck {
        diagnostics: diags,
        source: Some(source),
        inventory,
    }
}
